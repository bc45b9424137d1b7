"""The composer's decision, one README row each: which configurations take the fast path."""

from __future__ import annotations

import pytest

from s3flow.backend.route import Fallback, Route, choose_route
from s3flow.config import ConnectConfig

LOCAL = ConnectConfig(endpoint_url="http://127.0.0.1:8333")
AWS = ConnectConfig(region="eu-west-1")
REGIONAL = "https://s3.eu-west-1.amazonaws.com"


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)


def test_fast_rows() -> None:
    assert choose_route(LOCAL, "us-east-1") == Route("http://127.0.0.1:8333", path_style=True)
    https = ConnectConfig(endpoint_url="https://minio.corp:9000/")
    assert choose_route(https, "us-east-1") == Route("https://minio.corp:9000", path_style=True)
    virtual = ConnectConfig(endpoint_url="http://s3.test:8333", addressing_style="virtual")
    assert choose_route(virtual, "us-east-1") == Route("http://s3.test:8333", path_style=False)
    # AWS: virtual-hosted, at the regional endpoint botocore resolved.
    assert choose_route(AWS, "eu-west-1", resolved_endpoint=REGIONAL) == Route(
        REGIONAL, path_style=False
    )
    legacy = "https://s3.amazonaws.com"
    assert choose_route(AWS, "us-east-1", resolved_endpoint=legacy) == Route(
        "https://s3.us-east-1.amazonaws.com", path_style=False
    )
    path_aws = ConnectConfig(region="eu-west-1", addressing_style="path")
    assert choose_route(path_aws, "eu-west-1", resolved_endpoint=REGIONAL) == Route(
        REGIONAL, path_style=True
    )


@pytest.mark.parametrize(
    ("config", "kwargs", "reason"),
    [
        (ConnectConfig(endpoint_url="http://h:1", fast_path=False), {}, "fast_path=False"),
        (LOCAL, {"anonymous": True}, "no credentials"),
        (ConnectConfig(endpoint_url="http://h:1/s3"), {}, "with a path"),
        (AWS, {"resolved_endpoint": REGIONAL, "accelerate": True}, "Acceleration"),
        (AWS, {"resolved_endpoint": "https://s3-fips.eu-west-1.amazonaws.com"}, "variant"),
        (AWS, {"resolved_endpoint": "https://s3.dualstack.eu-west-1.amazonaws.com"}, "variant"),
    ],
)
def test_fallback_rows(config: ConnectConfig, kwargs: dict, reason: str) -> None:
    route = choose_route(config, "eu-west-1", **kwargs)
    assert isinstance(route, Fallback) and reason in route.reason


def test_a_proxy_falls_back_unless_bypassed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", "http://proxy.invalid:3128")
    route = choose_route(LOCAL, "us-east-1")
    assert isinstance(route, Fallback) and "proxy" in route.reason
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    assert isinstance(choose_route(LOCAL, "us-east-1"), Route)
