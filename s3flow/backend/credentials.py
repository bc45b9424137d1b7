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
from typing import Protocol

__all__ = [
    "CredentialSource",
    "Credentials",
    "StaticCredentials",
    "boto_config_paths",
    "read_boto_credentials",
]


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


class CredentialSource(Protocol):
    """Where the fast path's signer gets its keys: a frozen snapshot per request.

    ``refreshable`` sources (SSO, ``credential_process``, assumed roles,
    container and instance roles) refresh ahead of expiry inside
    :meth:`current`; :meth:`refresh` is for a request the server rejected as
    expired, and refreshes at most once for every caller holding ``stale``.
    """

    @property
    def refreshable(self) -> bool: ...

    @property
    def latest(self) -> Credentials:
        """The last snapshot handed out, without waiting (for presigning)."""
        ...

    async def current(self) -> Credentials: ...

    async def refresh(self, stale: Credentials) -> Credentials: ...


class StaticCredentials:
    """Keys that never change (given, environment, files): every snapshot is the same."""

    __slots__ = ("_credentials",)

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials

    def __repr__(self) -> str:
        return f"StaticCredentials({self._credentials!r})"

    @property
    def refreshable(self) -> bool:
        return False

    @property
    def latest(self) -> Credentials:
        return self._credentials

    async def current(self) -> Credentials:
        return self._credentials

    async def refresh(self, stale: Credentials) -> Credentials:
        return self._credentials
