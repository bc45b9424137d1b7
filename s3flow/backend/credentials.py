"""Credentials with a masked repr, and the legacy ``~/.boto`` reader.

Resolution order (see :func:`s3flow.connect`): explicit keys, then the
standard AWS chain (env vars, ``~/.aws/*``, profiles, botocore's own boto
provider), then the ``[Credentials]`` section of ``BOTO_CONFIG`` or ``~/.boto``.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Credentials", "boto_config_paths", "read_boto_credentials"]


def mask(value: str | None, *, keep: int = 0) -> str:
    if not value:
        return repr(value)
    return repr(value[:keep] + "…") if keep and len(value) > keep * 2 else "'********'"


@dataclass(frozen=True, slots=True)
class Credentials:
    """Access key, secret key and optional session token.

    The secret and token never appear in ``repr``/``str``::

        >>> Credentials("AKIAEXAMPLE123", "s3cr3t")
        Credentials(access_key='AKIA…', secret_key='********', session_token=None)
    """

    access_key: str
    secret_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    source: str = field(default="explicit", compare=False)

    def __repr__(self) -> str:
        return (
            f"Credentials(access_key={mask(self.access_key, keep=4)}, "
            f"secret_key={mask(self.secret_key)}, session_token={mask(self.session_token)})"
        )

    __str__ = __repr__


def boto_config_paths() -> list[Path]:
    """Where legacy boto looks: ``BOTO_CONFIG`` if set, else ``~/.boto``."""
    if os.environ.get("BOTO_CONFIG"):
        return [Path(os.environ["BOTO_CONFIG"]).expanduser()]
    return [Path("~/.boto").expanduser()]


def read_boto_credentials() -> Credentials | None:
    """Read ``[Credentials]`` from the legacy boto file. Blocking: call in a thread."""
    for path in boto_config_paths():
        parser = configparser.RawConfigParser()
        try:
            parser.read(path)
        except (OSError, configparser.Error):
            continue
        if parser.has_option("Credentials", "aws_access_key_id") and parser.has_option(
            "Credentials", "aws_secret_access_key"
        ):
            return Credentials(
                parser.get("Credentials", "aws_access_key_id").strip(),
                parser.get("Credentials", "aws_secret_access_key").strip(),
                source=f"boto-config:{path}",
            )
    return None
