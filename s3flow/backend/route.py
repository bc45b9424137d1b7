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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from s3flow.backend.credentials import Credentials

if TYPE_CHECKING:
    from collections.abc import Mapping

    from s3flow.config import ConnectConfig

__all__ = ["Fallback", "Route", "choose_route", "quick_start"]


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


def quick_start(
    config: ConnectConfig,
    *,
    access_key: str | None,
    secret_key: str | None,
    session_token: str | None,
    profile: str | None,
) -> tuple[Credentials, str] | None:
    """Credentials and region when botocore would surely resolve the same ones, else ``None``.

    Only the plain cases: a custom endpoint with both keys given, or static
    keys in the environment and no profile; the region given, in
    ``AWS_DEFAULT_REGION``, or no AWS config file that could name one.
    Anything else (profiles, SSO, roles, ``~/.boto``) is resolved by botocore.

    >>> from s3flow.config import ConnectConfig
    >>> cfg = ConnectConfig(endpoint_url="http://127.0.0.1:8333", region="eu-west-1")
    >>> creds, region = quick_start(
    ...     cfg, access_key="AK", secret_key="s", session_token=None, profile=None)
    >>> creds.source, region
    ('explicit', 'eu-west-1')
    """
    env = os.environ
    credentials = _plain_credentials(env, access_key, secret_key, session_token, profile)
    if credentials is None or config.endpoint_url is None:
        return None
    region = _plain_region(config, env)
    if region is None or not isinstance(choose_route(config, region), Route):
        return None
    return credentials, region


def _plain_credentials(
    env: Mapping[str, str],
    access_key: str | None,
    secret_key: str | None,
    session_token: str | None,
    profile: str | None,
) -> Credentials | None:
    """Both keys given, or static keys in the environment and no profile; else None."""
    if access_key and secret_key:
        return Credentials(access_key, secret_key, session_token)
    if access_key or secret_key or profile or env.get("AWS_PROFILE"):
        return None
    return _env_credentials(env)


def _env_credentials(env: Mapping[str, str]) -> Credentials | None:
    if not (env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY")):
        return None
    if env.get("AWS_CREDENTIAL_EXPIRATION"):  # botocore would refresh these
        return None
    token = env.get("AWS_SESSION_TOKEN") or env.get("AWS_SECURITY_TOKEN")
    return Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], token, source="env")


def _plain_region(config: ConnectConfig, env: Mapping[str, str]) -> str | None:
    """The region given or in ``AWS_DEFAULT_REGION``, else us-east-1 when no AWS
    config file could name another; None when one might."""
    region = config.region or env.get("AWS_DEFAULT_REGION")
    if region is not None:
        return region
    config_file = Path(env.get("AWS_CONFIG_FILE", "~/.aws/config")).expanduser()
    return None if config_file.exists() else "us-east-1"
