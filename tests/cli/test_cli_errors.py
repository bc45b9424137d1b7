"""Failures print one line, "Error: …", exit non-zero, never a traceback or the secret.

The cases run as parallel processes (one start-up cost for all), then are checked one by one.
"""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import pytest

from s3flow.testing.servers import s3_request
from tests.cli.helpers import Run, finish, put, start

if TYPE_CHECKING:
    from pathlib import Path

    from s3flow.testing.servers import S3Server

# name -> (argv with {b} for a bucket holding k.txt, substring expected in the one line)
CASES: dict[str, tuple[list[str], str]] = {
    "missing bucket": (
        ["ls", "s3://no-such-bucket-cli"],
        "s3://no-such-bucket-cli: bucket does not exist",
    ),
    "missing key": (["cat", "s3://{b}/missing.txt"], "s3://{b}/missing.txt: object not found"),
    "missing bucket on cat": (["cat", "s3://no-such-bucket-cli/k"], "bucket does not exist"),
    "missing bucket on download": (
        ["cp", "s3://no-such-bucket-cli/k", "out.txt"],
        "s3://no-such-bucket-cli: bucket does not exist",
    ),
    "refused connection": (
        ["--endpoint-url", "http://127.0.0.1:1", "ls"],
        "cannot reach the endpoint http://127.0.0.1:1 (connection refused)",
    ),
    "refused connection on upload": (
        ["--endpoint-url", "http://127.0.0.1:1", "cp", "afile", "s3://{b}/k"],
        "cannot reach the endpoint http://127.0.0.1:1 (connection refused)",
    ),
    "missing key to file": (["cp", "s3://{b}/missing.txt", "out.txt"], "object not found"),
    "missing local file": (["cp", "nofile.txt", "s3://{b}/k"], "nofile.txt: no such file"),
    "directory without --recursive": (["cp", "somedir", "s3://{b}/"], "somedir: is a directory"),
    "invalid bucket name": (["mb", "s3://Bad_Bucket"], "s3://Bad_Bucket: invalid bucket name"),
    "non-empty rb": (["rb", "s3://{b}"], "s3://{b}: bucket is not empty; use rb --force"),
    "bad endpoint": (["--endpoint-url", "notaurl", "ls"], "endpoint URL 'notaurl' is not valid"),
    "unwritable destination": (
        ["cp", "s3://{b}/k.txt", "afile/sub/k.txt"],
        "afile/sub: cannot create directory",
    ),
    "debug keeps the secret out": (["--debug", "cp", "afile", "s3://{b}/up"], ""),
}


BUCKET = "cli-errors-bucket"


@pytest.fixture(scope="module")
def results(moto_server: S3Server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    work = tmp_path_factory.mktemp("errors")
    (work / "somedir").mkdir()
    (work / "afile").write_text("a file, not a directory")
    assert s3_request(moto_server, "PUT", f"/{BUCKET}").status == 200
    put(moto_server, BUCKET, "k.txt", b"k")
    procs: dict[str, subprocess.Popen[bytes]] = {}
    for name, (argv, _) in CASES.items():
        args = [arg.replace("{b}", BUCKET) for arg in argv]
        own_endpoint = args[0] == "--endpoint-url"
        procs[name] = start(moto_server, work, *args, cwd=work, endpoint=not own_endpoint)
    return {name: finish(moto_server, proc) for name, proc in procs.items()}


@pytest.mark.parametrize("case", [name for name in CASES if not name.startswith("debug")])
def test_one_line_error(results: dict[str, Run], case: str) -> None:
    line = results[case].assert_one_line_error()
    assert CASES[case][1].replace("{b}", BUCKET) in line
    assert "=True" not in line and "order='" not in line  # CLI flags, not API arguments
    assert results[case].code == 1


def test_debug_logs_but_never_the_secret(results: dict[str, Run]) -> None:
    run = results["debug keeps the secret out"]
    assert run.code == 0, run
    assert "s3flow.http" in run.err  # it did log; finish() checked that the secret is absent


@pytest.mark.parametrize(
    "argv",
    [
        ["ls", "s3://{b}"],
        ["cat", "s3://{b}/k.txt"],
        ["cp", "s3://{b}/k.txt", "out.txt"],
        ["cp", "afile", "s3://{b}/up"],
        ["mb", "s3://{b}-new"],
        ["rm", "s3://{b}/k.txt"],
    ],
)
def test_wrong_secret_says_credentials_on_every_verb(
    seaweed_server: S3Server, tmp_path: Path, argv: list[str]
) -> None:
    bucket = "cli-creds-bucket"
    s3_request(seaweed_server, "PUT", f"/{bucket}")
    put(seaweed_server, bucket, "k.txt", b"k")
    (tmp_path / "afile").write_text("x")
    args = [a.replace("{b}", bucket) for a in argv]
    run = finish(seaweed_server, start(seaweed_server, tmp_path, *args, cwd=tmp_path, secret="bad"))
    line = run.assert_one_line_error()
    assert "refused the credentials" in line and "check the keys" in line, line
    assert "permissions" not in line and "taken" not in line, line


def test_bad_canned_acl_is_refused_locally(moto_server: S3Server, tmp_path: Path) -> None:
    for argv in (
        ["acl", "set", f"s3://{BUCKET}/k.txt", "publik"],
        ["cp", "x", "s3://b/k", "--acl", "publik"],
    ):
        run = finish(moto_server, start(moto_server, tmp_path, *argv, cwd=tmp_path))
        assert run.code in (1, 2) and "Traceback" not in run.err, run
        assert "publik" in run.err and "public-read" in run.err, run
        assert "attempts" not in run.err and "INTERNAL" not in run.err.upper(), run


def test_wrong_credentials(seaweed_server: S3Server, tmp_path: Path) -> None:
    right = start(seaweed_server, tmp_path, "ls", cwd=tmp_path)
    wrong = start(seaweed_server, tmp_path, "ls", cwd=tmp_path, secret="not-the-secret-key")
    assert finish(seaweed_server, right).code == 0
    run = finish(seaweed_server, wrong)
    line = run.assert_one_line_error()
    assert "not-the-secret-key" not in run.err
    assert any(word in line.lower() for word in ("credentials", "signature", "denied"))
