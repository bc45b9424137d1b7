"""Which path serves a client: pure decisions, made once by ``connect()``.

:func:`choose_route` says whether the fast path (our signer and HTTP/1.1
client) may serve the hot calls, and how to address buckets; a
:class:`Fallback` says why not, in words the README's decision table uses.
:func:`quick_start` says whether the credentials and region are known
without botocore at all. Nothing here does I/O but reading the environment
and checking that a file exists.
"""

from __future__ import annotations

import os
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from s3flow.backend.credentials import Credentials

if TYPE_CHECKING:
    from s3flow.backend.profile import ProfileSettings
    from s3flow.config import ConnectConfig

__all__ = ["Fallback", "FromProcess", "Route", "choose_route", "quick_start"]


@dataclass(frozen=True, slots=True)
class Route:
    """The fast path serves the hot calls at ``base_url`` (``scheme://host[:port]``)."""

    base_url: str
    path_style: bool


@dataclass(frozen=True, slots=True)
class Fallback:
    """Every call goes through botocore, because of ``reason``."""

    reason: str


def choose_route(
    config: ConnectConfig,
    region: str,
    *,
    resolved_endpoint: str | None = None,
    accelerate: bool = False,
    anonymous: bool = False,
) -> Route | Fallback:
    """The fast path's route, or why there is none (one row of the README table each).

    ``resolved_endpoint`` is botocore's own answer for AWS (``None`` for a
    custom endpoint); any AWS variant it resolved to that we would not
    (FIPS, dual-stack, China, a configured service endpoint) stays on botocore.

    >>> from s3flow.config import ConnectConfig
    >>> choose_route(ConnectConfig(endpoint_url="http://127.0.0.1:8333"), "us-east-1")
    Route(base_url='http://127.0.0.1:8333', path_style=True)
    >>> choose_route(ConnectConfig(fast_path=False), "us-east-1")
    Fallback(reason='fast_path=False')
    """
    if not config.fast_path:
        return Fallback("fast_path=False")
    if anonymous:
        return Fallback("no credentials: unsigned requests")
    base = _base_url(config, region, resolved_endpoint, accelerate=accelerate)
    if isinstance(base, Fallback):
        return base
    parts = urlsplit(base)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
        return Fallback(f"a proxy ({parts.scheme}_proxy): botocore sends through it")
    return Route(base, config.use_path_style)


def _base_url(
    config: ConnectConfig, region: str, resolved_endpoint: str | None, *, accelerate: bool
) -> str | Fallback:
    """The custom endpoint, or the plain regional AWS one botocore resolved too."""
    if config.endpoint_url is not None:
        base = config.endpoint_url.rstrip("/")
        return Fallback("an endpoint URL with a path") if urlsplit(base).path else base
    base = f"https://s3.{region}.amazonaws.com"
    if accelerate:
        return Fallback("S3 Transfer Acceleration")
    if resolved_endpoint is None or resolved_endpoint.rstrip("/") not in (
        base,
        "https://s3.amazonaws.com",
    ):
        return Fallback("an AWS endpoint variant (FIPS, dual-stack, China, or configured)")
    return base


@dataclass(frozen=True, slots=True)
class FromProcess:
    """Keys that the profile's ``credential_process`` prints; connect() runs it."""

    command: str = field(repr=False)
    profile: str


# Environment that puts botocore's chain ahead of a profile's credential_process
# (its env and web-identity providers), or that only botocore reads.
_CHAIN_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


def quick_start(
    config: ConnectConfig,
    *,
    access_key: str | None,
    secret_key: str | None,
    session_token: str | None,
    profile: str | None,
    settings: ProfileSettings | None = None,
) -> tuple[Credentials | FromProcess, str] | None:
    """Credentials and region when botocore would surely resolve the same ones, else ``None``.

    Only the plain cases, with a custom endpoint: both keys given; static
    keys in the environment and no profile; or a profile whose credentials
    come from ``credential_process`` (``settings``, as read by
    :func:`~s3flow.backend.profile.read_profile`). The region is the given
    one, else ``AWS_DEFAULT_REGION``, else the profile's. Anything else
    (SSO, roles, ``~/.boto``, AWS endpoints) is resolved by botocore.

    >>> from s3flow.config import ConnectConfig
    >>> cfg = ConnectConfig(endpoint_url="http://127.0.0.1:8333", region="eu-west-1")
    >>> creds, region = quick_start(
    ...     cfg, access_key="AK", secret_key="s", session_token=None, profile=None)
    >>> creds.source, region
    ('explicit', 'eu-west-1')
    """
    keys = _quick_keys(access_key, secret_key, session_token, profile, settings)
    region = _quick_region(config, settings)
    if keys is None or region is None or config.endpoint_url is None:
        return None
    if not isinstance(choose_route(config, region), Route):
        return None
    return keys, region


def _quick_region(config: ConnectConfig, settings: ProfileSettings | None) -> str | None:
    """botocore's region: given, ``AWS_DEFAULT_REGION``, the profile's; None if it may differ."""
    region = config.region or os.environ.get("AWS_DEFAULT_REGION")
    if settings is not None:
        return region or settings.region or "us-east-1"
    config_file = Path(os.environ.get("AWS_CONFIG_FILE", "~/.aws/config")).expanduser()
    if region is None and not config_file.exists():
        return "us-east-1"  # no file that could name one
    return region


def _quick_keys(
    access_key: str | None,
    secret_key: str | None,
    session_token: str | None,
    profile: str | None,
    settings: ProfileSettings | None,
) -> Credentials | FromProcess | None:
    if access_key and secret_key:
        return Credentials(access_key, secret_key, session_token)
    if access_key or secret_key:
        return None
    if any(os.environ.get(name) for name in _CHAIN_ENV):
        return None if profile else _env_keys()  # botocore drops env keys for a named profile
    return _from_process(settings)


def _from_process(settings: ProfileSettings | None) -> FromProcess | None:
    if settings is None or settings.credentials_before_process:
        return None
    return (
        FromProcess(settings.credential_process, settings.name)
        if settings.credential_process
        else None
    )


def _env_keys() -> Credentials | None:
    """Static keys in the environment, where botocore's env provider returns exactly them."""
    env = os.environ
    if env.get("AWS_PROFILE") or env.get("AWS_CREDENTIAL_EXPIRATION"):  # expiring ones refresh
        return None
    access, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if not (access and secret):
        return None
    token = env.get("AWS_SESSION_TOKEN") or env.get("AWS_SECURITY_TOKEN")
    return Credentials(access, secret, token, source="env")
