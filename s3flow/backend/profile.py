"""What the AWS config profile says about TLS and addressing, read without botocore.

Both paths must agree on the CA bundle and the addressing style, so they are
resolved once, here, and handed to each as explicit values (botocore gets
``verify=<path>`` and ``addressing_style``): the precedence is botocore's own,
``connect()`` argument, then environment, then profile.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from s3flow.errors import ConfigError

__all__ = ["AddressingStyle", "ProfileSettings", "read_profile", "resolve_ca_bundle"]

AddressingStyle = Literal["auto", "path", "virtual"]
_STYLES = ("auto", "path", "virtual")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileSettings:
    """The settings of one profile in ``AWS_CONFIG_FILE`` (or ``~/.aws/config``)."""

    name: str = "default"
    ca_bundle: str | None = None
    addressing_style: AddressingStyle | None = None


def _nested(text: str) -> dict[str, str]:
    """``s3 =\\n  addressing_style = virtual`` → ``{"addressing_style": "virtual"}``."""
    found = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            found[name.strip()] = value.strip()
    return found


def _section(path: Path, name: str) -> dict[str, str] | None:
    """The profile's section of the config file; None when the file or section is missing."""
    parser = configparser.RawConfigParser()
    try:
        parser.read(path)
    except (OSError, configparser.Error):
        return None
    for section in (f"profile {name}", name):
        if parser.has_section(section):
            return dict(parser.items(section))
    return None


def read_profile(profile: str | None = None) -> ProfileSettings:
    """Read the profile botocore would use (blocking: call in a thread).

    The name is ``profile``, else ``AWS_PROFILE``, else ``AWS_DEFAULT_PROFILE``,
    else ``default``; a missing file or section means no settings.
    """
    env = os.environ
    name = profile or env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE") or "default"
    path = Path(env.get("AWS_CONFIG_FILE", "~/.aws/config")).expanduser()
    values = _section(path, name)
    if values is None:
        return ProfileSettings(name=name)
    style = _nested(values.get("s3", "")).get("addressing_style")
    if style is not None and style not in _STYLES:
        raise ConfigError(
            f"profile {name!r} in {path}: s3 addressing_style must be one of "
            f"{', '.join(_STYLES)}, got {style!r}"
        )
    return ProfileSettings(
        name=name,
        ca_bundle=values.get("ca_bundle") or None,
        addressing_style=style,  # type: ignore[arg-type]
    )


def resolve_ca_bundle(explicit: str | None, settings: ProfileSettings) -> str | None:
    """The CA file to trust: ``explicit``, else ``AWS_CA_BUNDLE``, else the profile's ``ca_bundle``.

    ``None`` means the default trust store (certifi's). A named file that
    does not exist is a ConfigError saying where the name came from.
    """
    for where, value in (
        ("ca_bundle", explicit),
        ("AWS_CA_BUNDLE", os.environ.get("AWS_CA_BUNDLE")),
        (f"ca_bundle in profile {settings.name!r}", settings.ca_bundle),
    ):
        if value:
            path = Path(value).expanduser()
            if not path.is_file():
                raise ConfigError(f"CA bundle {value!r} (from {where}) is not a readable file")
            return str(path)
    return None
