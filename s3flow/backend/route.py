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
    if config.endpoint_url is not None:
        base = config.endpoint_url.rstrip("/")
        if urlsplit(base).path:
            return Fallback("an endpoint URL with a path")
    else:
        base = f"https://s3.{region}.amazonaws.com"
        aws = (base, "https://s3.amazonaws.com")
        if accelerate:
            return Fallback("S3 Transfer Acceleration")
        if resolved_endpoint is None or resolved_endpoint.rstrip("/") not in aws:
            return Fallback("an AWS endpoint variant (FIPS, dual-stack, China, or configured)")
    parts = urlsplit(base)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
        return Fallback(f"a proxy ({parts.scheme}_proxy): botocore sends through it")
    return Route(base, config.use_path_style)


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
    if access_key and secret_key:
        credentials = Credentials(access_key, secret_key, session_token)
    elif access_key or secret_key or profile or env.get("AWS_PROFILE"):
        return None
    elif env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        if env.get("AWS_CREDENTIAL_EXPIRATION"):  # botocore would refresh these
            return None
        token = env.get("AWS_SESSION_TOKEN") or env.get("AWS_SECURITY_TOKEN")
        credentials = Credentials(
            env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], token, source="env"
        )
    else:
        return None
    region = config.region or env.get("AWS_DEFAULT_REGION")
    if region is None:
        config_file = Path(env.get("AWS_CONFIG_FILE", "~/.aws/config")).expanduser()
        if config_file.exists():
            return None
        region = "us-east-1"
    if config.endpoint_url is None or not isinstance(choose_route(config, region), Route):
        return None
    return credentials, region
