"""connect() composes: which path serves each configuration (the README's decision table).

Observed from outside: the ``s3flow.client`` debug line that names the choice,
and whether the fast path's own request log (``s3flow.http``) shows the call.
"""

from __future__ import annotations

import logging

import pytest

import s3flow
from s3flow.testing.servers import S3Server


def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("row", "fast"),
    [
        ("keys given", True),
        ("keys in the environment", True),
        ("static keys in a profile", True),
        ("virtual-hosted custom endpoint", True),
        ("fast_path=False", False),
        ("S3FLOW_FAST_PATH=0", False),
        ("a proxy", False),
    ],
)
async def test_the_composer_chooses_per_row(
    moto_server: S3Server,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path,
    row: str,
    fast: bool,
) -> None:
    _no_proxy(monkeypatch)
    caplog.set_level(logging.DEBUG, logger="s3flow.client")
    caplog.set_level(logging.DEBUG, logger="s3flow.http")
    kwargs: dict[str, object] = {
        "endpoint_url": moto_server.endpoint_url,
        "region": "us-east-1",
        "access_key": moto_server.access_key,
        "secret_key": moto_server.secret_key,
    }
    if row == "keys in the environment":
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_server.access_key)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_server.secret_key)
        del kwargs["access_key"], kwargs["secret_key"]
    elif row == "static keys in a profile":
        config = tmp_path / "config"
        config.write_text(
            f"[profile p]\naws_access_key_id = {moto_server.access_key}\n"
            f"aws_secret_access_key = {moto_server.secret_key}\n"
        )
        monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
        del kwargs["access_key"], kwargs["secret_key"]
        kwargs["profile"] = "p"
    elif row == "virtual-hosted custom endpoint":
        kwargs["addressing_style"] = "virtual"
    elif row == "fast_path=False":
        kwargs["fast_path"] = False
    elif row == "S3FLOW_FAST_PATH=0":
        monkeypatch.setenv("S3FLOW_FAST_PATH", "0")
    elif row == "a proxy":
        monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # never reached: botocore's call
        monkeypatch.setenv("no_proxy", "")
    async with s3flow.connect(**kwargs) as s3:  # type: ignore[arg-type]
        if row != "a proxy" and row != "virtual-hosted custom endpoint":
            await s3.list_buckets()
    choice = [r.getMessage() for r in caplog.records if r.name == "s3flow.client"]
    assert len(choice) == 1, choice
    if fast:
        assert choice[0].startswith("fast path: "), choice
    else:
        assert choice[0].startswith("botocore serves every call: "), choice
        assert ("proxy" in choice[0]) == (row == "a proxy")
    sent = [r for r in caplog.records if r.name == "s3flow.http"]
    if row not in ("a proxy", "virtual-hosted custom endpoint"):
        assert bool(sent) == fast
