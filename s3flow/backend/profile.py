"""What the AWS config profile says about TLS and addressing, read without botocore.

Both paths must agree on the CA bundle and the addressing style, so they are
resolved once, here, and handed to each as explicit values (botocore gets
``verify=<path>`` and ``addressing_style``): the precedence is botocore's own,
``connect()`` argument, then environment, then profile.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass, field
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
    region: str | None = None
    #: The profile's ``credential_process`` command (config or credentials file).
    credential_process: str | None = field(default=None, repr=False)
    #: The profile also names credentials that botocore's chain tries before
    #: ``credential_process`` (keys in the credentials file, a role, SSO, web identity).
    credentials_before_process: bool = False


def _nested(text: str) -> dict[str, str]:
    """``s3 =\\n  addressing_style = virtual`` → ``{"addressing_style": "virtual"}``."""
    found = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            found[name.strip()] = value.strip()
    return found


# Profile keys that make botocore's chain stop before its credential_process
# provider (botocore/credentials.py: assume-role, web identity, SSO, then the
# shared credentials file); aws_access_key_id in the config file comes after it.
_AHEAD_OF_PROCESS = frozenset(
    {
        "role_arn",
        "source_profile",
        "credential_source",
        "web_identity_token_file",
        "sso_session",
        "sso_start_url",
        "sso_account_id",
        "sso_role_name",
    }
)


def _section(path: Path, names: tuple[str, ...]) -> dict[str, str]:
    """The first of ``names`` found in the INI file at ``path``; ``{}`` if none or unreadable."""
    parser = configparser.RawConfigParser()
    try:
        parser.read(path)
    except (OSError, configparser.Error):
        return {}
    for name in names:
        if parser.has_section(name):
            return dict(parser.items(name))
    return {}


def read_profile(profile: str | None = None) -> ProfileSettings:
    """Read the profile botocore would use (blocking: call in a thread).

    The name is ``profile``, else ``AWS_DEFAULT_PROFILE``, else ``AWS_PROFILE`` (botocore's order),
    else ``default``; a missing file or section means no settings. As in
    botocore, the credentials file's section of the same name is merged over
    the config file's.
    """
    env = os.environ
    name = profile or env.get("AWS_DEFAULT_PROFILE") or env.get("AWS_PROFILE") or "default"
    path = Path(env.get("AWS_CONFIG_FILE", "~/.aws/config")).expanduser()
    # botocore reads [default] or [profile NAME] in the config file, [NAME] in the credentials file
    sections = (f"profile {name}", "default") if name == "default" else (f"profile {name}",)
    shared = Path(env.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")).expanduser()
    from_credentials_file = _section(shared, (name,))
    # an empty value is no value, as for botocore
    values = {k: v for k, v in (_section(path, sections) | from_credentials_file).items() if v}
    if not values:
        return ProfileSettings(name=name)
    style = _nested(values.get("s3", "")).get("addressing_style")
    if style is not None and style not in _STYLES:
        raise ConfigError(
            f"profile {name!r} in {path}: s3 addressing_style must be one of "
            f"{', '.join(_STYLES)}, got {style!r}"
        )
    return ProfileSettings(
        name=name,
        ca_bundle=values.get("ca_bundle"),
        addressing_style=style,  # type: ignore[arg-type]
        region=values.get("region"),
        credential_process=values.get("credential_process"),
        credentials_before_process=bool(_AHEAD_OF_PROCESS & values.keys())
        or bool({"aws_access_key_id", "aws_secret_access_key"} & from_credentials_file.keys()),
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
