"""The real servers: SeaweedFS checks signatures and stops cleanly; moto serves put/get."""

from __future__ import annotations

import dataclasses
import os
import time
from typing import TYPE_CHECKING

import pytest

from s3flow.testing.servers import SeaweedFS, s3_request

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from s3flow.testing.servers import S3Server

    Payload = Callable[..., bytes]

pytestmark = pytest.mark.timeout(180)


@pytest.mark.seaweed
def test_seaweedfs_serves_signed_requests_and_rejects_a_wrong_secret(
    seaweed_server: S3Server, payload: Payload
) -> None:
    data = payload(100_000, seed=1)
    assert s3_request(seaweed_server, "PUT", "/it-servers").status == 200
    put = s3_request(seaweed_server, "PUT", "/it-servers/dir/a b+é", body=data)
    assert put.status == 200, put.body
    get = s3_request(seaweed_server, "GET", "/it-servers/dir/a b+é")
    assert (get.status, get.body) == (200, data)

    wrong = dataclasses.replace(seaweed_server, secret_key=seaweed_server.secret_key + "x")
    denied = s3_request(wrong, "GET", "/it-servers/dir/a b+é")
    assert denied.status == 403
    assert b"SignatureDoesNotMatch" in denied.body

    not_empty = s3_request(seaweed_server, "DELETE", "/it-servers")
    assert not_empty.status == 409, "started with -s3.allowDeleteBucketNotEmpty=false"
    assert s3_request(seaweed_server, "DELETE", "/it-servers/dir/a b+é").status == 204
    assert s3_request(seaweed_server, "DELETE", "/it-servers").status == 204


@pytest.mark.seaweed
@pytest.mark.slow
def test_seaweedfs_stop_leaves_no_process_and_no_temp_dirs() -> None:
    weed = SeaweedFS(startup_timeout=90)
    with weed as server:
        pid = weed.pid
        assert pid is not None
        assert weed.log_path is not None
        data_dir = weed.log_path.parent
        assert server.endpoint_url.startswith("http://127.0.0.1:")
        assert s3_request(server, "PUT", "/stop-check").status == 200
        # Deleted bytes stay in the volume files until a vacuum gives them back
        # (the filer deletes chunks in the background, so allow it a few seconds).
        assert s3_request(server, "PUT", "/stop-check/k", body=os.urandom(8 << 20)).status == 200
        assert s3_request(server, "DELETE", "/stop-check/k").status == 204
        before = _megabytes(data_dir)
        for _ in range(30):
            weed.vacuum()
            if _megabytes(data_dir) < before - 6:
                break
            time.sleep(1)
        assert _megabytes(data_dir) < before - 6, (before, _megabytes(data_dir))
    assert weed.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not data_dir.exists()
    with pytest.raises(RuntimeError, match="not running"):
        _ = weed.server


def test_moto_put_and_get(moto_server: S3Server, payload: Payload) -> None:
    data = payload(1000, seed=2)
    assert moto_server.endpoint_url.startswith("http://127.0.0.1:")
    assert s3_request(moto_server, "PUT", "/moto-servers").status == 200
    assert s3_request(moto_server, "PUT", "/moto-servers/k y", body=data).status == 200
    get = s3_request(moto_server, "GET", "/moto-servers/k y")
    assert (get.status, get.body) == (200, data)
    missing = s3_request(moto_server, "GET", "/moto-servers/missing")
    assert missing.status == 404
    assert b"NoSuchKey" in missing.body


def test_isolate_aws_env_and_payload(isolate_aws_env: Path, payload: Payload) -> None:
    assert os.environ["HOME"] == str(isolate_aws_env)
    assert os.environ["AWS_EC2_METADATA_DISABLED"] == "true"
    assert not os.path.exists(os.environ["AWS_SHARED_CREDENTIALS_FILE"])
    assert not [k for k in os.environ if k.startswith(("BOTO_", "S3FLOW_", "AWS_ACCESS"))]
    assert payload(64, seed=3) == payload(64, seed=3) != payload(64, seed=4)
    assert len(payload(0)) == 0


def _megabytes(directory: Path) -> float:
    return sum(f.stat().st_size for f in directory.rglob("*") if f.is_file()) / 2**20
