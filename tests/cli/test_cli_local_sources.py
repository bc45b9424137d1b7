"""Sources that are not regular files, and a `cat` whose bytes turn out bad, through the real
console script: a clear one-line error, never a hang, never a false "nothing was written"."""

from __future__ import annotations

import hashlib
import os
import subprocess

import pytest

from s3flow.testing.servers import S3Server
from tests.cli.helpers import Run, get, start
from tests.rawserver import RawServer, response

HANG = 20  # seconds: far more than a refusal takes, far less than the suite's timeout


def run_bounded(server: S3Server, home, *args: str, cwd) -> Run:
    proc = start(server, home, *args, cwd=cwd)
    try:
        out, err = proc.communicate(timeout=HANG)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate(timeout=10)
        raise AssertionError(f"s3flow {' '.join(args)} hung for {HANG} s") from None
    run = Run(tuple(args), proc.returncode, out, err.decode(errors="replace"))
    assert server.secret_key not in run.err
    return run


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs mkfifo")
def test_cp_of_a_fifo_is_refused_not_a_hang(moto_server, bucket, tmp_path, isolate_aws_env):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    run = run_bounded(
        moto_server, isolate_aws_env, "cp", str(fifo), f"s3://{bucket}/k", cwd=tmp_path
    )
    line = run.assert_one_line_error()
    assert "named pipe (FIFO), not a regular file" in line and str(fifo) in line, line
    assert "cp - s3://" in line  # how to upload what it gives instead
    assert get(moto_server, bucket, "k") is None


def test_cp_of_dev_null_says_character_device(moto_server, bucket, tmp_path, isolate_aws_env):
    run = run_bounded(
        moto_server, isolate_aws_env, "cp", "/dev/null", f"s3://{bucket}/k", cwd=tmp_path
    )
    line = run.assert_one_line_error()
    assert "/dev/null: is a character device, not a regular file" in line, line
    assert "directory" not in line
    assert get(moto_server, bucket, "k") is None


def test_cp_of_a_directory_still_says_directory(moto_server, bucket, tmp_path, isolate_aws_env):
    run = run_bounded(
        moto_server, isolate_aws_env, "cp", str(tmp_path), f"s3://{bucket}/k", cwd=tmp_path
    )
    assert "is a directory; use --recursive" in run.assert_one_line_error()


def test_cat_with_a_checksum_mismatch_says_the_output_is_invalid(tmp_path, isolate_aws_env):
    """The server's ETag is the MD5 of other bytes: cat has written them all by the time the
    check fails, so the error must say stdout is invalid, not that nothing was written."""
    body = os.urandom(100_000)
    etag = hashlib.md5(b"other bytes").hexdigest()

    def answer(method: str, target: str, headers: dict[str, str]) -> bytes:
        head = {"Content-Length": str(len(body)), "ETag": f'"{etag}"'}
        if method == "HEAD":
            return response("200 OK", head)
        start, _, end = headers["range"].removeprefix("bytes=").partition("-")
        piece = body[int(start) : int(end) + 1]
        return response(
            "206 Partial Content",
            head
            | {
                "Content-Length": str(len(piece)),
                "Content-Range": f"bytes {start}-{end}/{len(body)}",
            },
            piece,
        )

    with RawServer(answer) as raw:
        server = S3Server(raw.url, "AKIDEXAMPLE", "not-a-secret")
        run = run_bounded(server, isolate_aws_env, "cat", "s3://b/k", cwd=tmp_path)
    assert run.out == body  # already on stdout when the check failed
    line = run.assert_one_line_error()
    assert "nothing was written" not in line, line
    assert "do not match" in line and "incomplete or invalid" in line, line
    assert f"{len(body)} bytes were already written to stdout" in line, line
