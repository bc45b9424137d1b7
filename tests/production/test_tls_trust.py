"""TLS trust as users configure it: the CA from each of the four sources, on both paths;
certificate and host-name failures fail at once with one line naming the endpoint and the fix.

Against SeaweedFS over HTTPS with a throwaway CA (``run_seaweedfs(https=True)``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

import s3flow
from s3flow.testing.servers import make_certificate
from tests.helpers import TEST_CONFIG, process_cluster, temp_bucket
from tests.production.tls_peer import CountingTLSServer

if TYPE_CHECKING:
    from pathlib import Path

    from s3flow.testing.servers import S3Server

pytestmark = pytest.mark.timeout(180)

PATHS = [pytest.param(True, id="fast"), pytest.param(False, id="botocore")]


async def _round_trip(server: S3Server, *, fast_path: bool, **kwargs: object) -> None:
    opening = s3flow.connect(
        endpoint_url=server.https_endpoint,
        access_key=server.access_key,
        secret_key=server.secret_key,
        region="us-east-1",
        config=TEST_CONFIG,
        fast_path=fast_path,
        **kwargs,  # type: ignore[arg-type]
    )
    async with opening as s3, temp_bucket(s3, "tls") as bucket:
        data = os.urandom(6 * 1024 * 1024)  # multipart with TEST_CONFIG
        await s3.put_object(bucket, "big", data)
        await s3.put_object(bucket, "small", b"hello")
        assert await s3.get_object(bucket, "big") == data
        assert [o.key async for o in s3.list_objects(bucket)] == ["big", "small"]
        assert (await s3.head_object(bucket, "small")).size == 5


@pytest.mark.parametrize("fast_path", PATHS)
async def test_ca_bundle_argument(tls_server: S3Server, fast_path: bool) -> None:
    await _round_trip(tls_server, fast_path=fast_path, ca_bundle=tls_server.ca_file)


@pytest.mark.parametrize("fast_path", PATHS)
async def test_ca_bundle_from_aws_ca_bundle(
    tls_server: S3Server, fast_path: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tls_server.ca_file
    monkeypatch.setenv("AWS_CA_BUNDLE", tls_server.ca_file)
    await _round_trip(tls_server, fast_path=fast_path)


@pytest.mark.parametrize("fast_path", PATHS)
async def test_ca_bundle_from_the_profile(
    tls_server: S3Server, fast_path: bool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.write_text(f"[profile prod]\nregion = us-east-1\nca_bundle = {tls_server.ca_file}\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    await _round_trip(tls_server, fast_path=fast_path, profile="prod")


def test_ca_bundle_flag(tls_server: S3Server, tmp_path: Path) -> None:
    assert tls_server.https_endpoint and tls_server.ca_file
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": tls_server.access_key,
        "AWS_SECRET_ACCESS_KEY": tls_server.secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "S3FLOW_STATE_DIR": str(tmp_path / "state"),
    }
    base = [sys.executable, "-m", "s3flow", "--endpoint-url", tls_server.https_endpoint]
    flag = ["--ca-bundle", tls_server.ca_file]
    source = tmp_path / "f"
    source.write_bytes(os.urandom(6 * 1024 * 1024))

    def s3flow_cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*base, *args], env=env, capture_output=True, text=True, timeout=90, check=False
        )

    untrusted = s3flow_cli("ls")
    assert untrusted.returncode == 1
    (line,) = untrusted.stderr.strip().splitlines()
    assert tls_server.https_endpoint in line and "--ca-bundle" in line, line
    for args in (
        ["mb", "s3://tls-flag"],
        ["cp", str(source), "s3://tls-flag/f"],
        ["cp", "s3://tls-flag/f", str(tmp_path / "back")],
        ["ls", "s3://tls-flag"],
        ["rb", "--force", "s3://tls-flag"],
    ):
        done = s3flow_cli(*flag, *args)
        assert done.returncode == 0, (args, done.stderr)
    assert (tmp_path / "back").read_bytes() == source.read_bytes()


@pytest.mark.parametrize("fast_path", PATHS)
async def test_untrusted_certificate_fails_at_once(tls_server: S3Server, fast_path: bool) -> None:
    async with s3flow.connect(
        endpoint_url=tls_server.https_endpoint,
        access_key=tls_server.access_key,
        secret_key=tls_server.secret_key,
        config=TEST_CONFIG,
        fast_path=fast_path,
    ) as s3:
        with pytest.raises(s3flow.CertificateError) as caught:
            await s3.get_object("some-bucket", "some-key")
    text = str(caught.value)
    assert "\n" not in text
    assert f"TLS certificate of {tls_server.https_endpoint} is not trusted" in text
    assert "--ca-bundle" in text and "AWS_CA_BUNDLE" in text and "--no-verify-ssl" in text


@pytest.mark.parametrize("fast_path", PATHS)
@pytest.mark.parametrize("trusted", [True, False], ids=["hostname-mismatch", "untrusted"])
async def test_certificate_errors_are_not_retried(
    tmp_path: Path, fast_path: bool, trusted: bool
) -> None:
    # A certificate for a DNS name only, served on 127.0.0.1: trusted, but not for that address.
    cert, key = make_certificate(tmp_path, ("s3.only-a-name.test",))
    with CountingTLSServer(cert, key).running() as peer:
        endpoint = f"https://127.0.0.1:{peer.port}"
        async with s3flow.connect(
            endpoint_url=endpoint,
            access_key="AK",
            secret_key="SK",
            config=TEST_CONFIG,  # three attempts per request
            fast_path=fast_path,
            ca_bundle=str(cert) if trusted else None,
        ) as s3:
            with pytest.raises(s3flow.CertificateError) as caught:
                await s3.get_object("bucket", "key")
        assert peer.connections == 1  # one handshake, no retry
    text = str(caught.value)
    assert endpoint in text and "\n" not in text
    if trusted:
        assert "not valid for that host name" in text
    else:
        assert "not trusted" in text and "--ca-bundle" in text


@pytest.mark.timeout(240)
def test_ca_bundle_flag_reaches_dask_workers(tls_server: S3Server, tmp_path: Path) -> None:
    """Workers have neither the flag nor AWS_CA_BUNDLE: the CA must travel with the job."""
    pytest.importorskip("distributed")
    assert tls_server.https_endpoint and tls_server.ca_file
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    env |= {
        "AWS_ACCESS_KEY_ID": tls_server.access_key,
        "AWS_SECRET_ACCESS_KEY": tls_server.secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "S3FLOW_STATE_DIR": str(tmp_path / "state"),
    }
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(6):
        (tree / f"f{i}.txt").write_text(str(i) * 100)
    base = [sys.executable, "-m", "s3flow", "--endpoint-url", tls_server.https_endpoint]
    base += ["--ca-bundle", tls_server.ca_file]
    with process_cluster(1) as cluster:
        for args in (
            ["mb", "s3://tls-dask"],
            ["sync", str(tree), "s3://tls-dask/t/", "--dask-scheduler", cluster.scheduler_address],
            ["rb", "--force", "s3://tls-dask"],
        ):
            done = subprocess.run(
                [*base, *args], env=env, capture_output=True, text=True, timeout=120, check=False
            )
            assert done.returncode == 0, (args, done.stdout, done.stderr)
            if args[0] == "sync":
                assert done.stdout.startswith("copied 6 "), done.stdout
