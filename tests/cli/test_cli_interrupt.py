"""Ctrl-C (SIGINT) through the real console script, against a raw server that stalls the
transfer: exit 130 and a line that says what actually happened to this transfer."""

from __future__ import annotations

import json
import signal
import threading
import time

from s3flow.testing.servers import S3Server
from tests.cli.helpers import start
from tests.rawserver import RawServer, response

SIZE = 64 * 1024 * 1024
ETAG = '"0123456789abcdef0123456789abcdef"'
UPLOAD_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult>'
    b"<Bucket>b</Bucket><Key>k</Key><UploadId>up-1</UploadId></InitiateMultipartUploadResult>"
)


def wait_for(condition, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the transfer never reached the stalled request"
        time.sleep(0.05)


def stalling_server(release: threading.Event) -> RawServer:
    """HEAD and multipart bookkeeping answer at once; GETs of data and part PUTs stall."""

    def answer(method: str, target: str, headers: dict[str, str]) -> bytes:
        if method == "HEAD":
            return response("200 OK", {"Content-Length": str(SIZE), "ETag": ETAG})
        if method == "POST" and "uploads" in target:
            return response("200 OK", {"Content-Length": str(len(UPLOAD_XML))}, UPLOAD_XML)
        if method == "DELETE":
            return response("204 No Content", {})
        release.wait(timeout=30)  # a data request: stall until the test is done
        return response("500 Internal Server Error", {"Content-Length": "0"})

    return RawServer(answer, timeout=40)


def interrupt(raw: RawServer, home, cwd, *args: str, stalled: str):
    server = S3Server(raw.url, "AKIDEXAMPLE", "not-a-secret")
    proc = start(server, home, *args, cwd=cwd)
    try:
        wait_for(lambda: any(method == stalled for method, _ in raw.requests))
    except AssertionError:
        proc.kill()
        raise
    time.sleep(0.3)  # let the transfer settle into waiting for the stalled answers
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=40)
    return proc.returncode, err.decode(errors="replace")


def test_ctrl_c_during_a_download_says_download(tmp_path, isolate_aws_env) -> None:
    release = threading.Event()
    raw = stalling_server(release)
    with raw:
        try:
            code, err = interrupt(
                raw, isolate_aws_env, tmp_path, "cp", "s3://b/k", "out", stalled="GET"
            )
        finally:
            release.set()
    assert code == 130, err
    assert "interrupted; the download was stopped and its partial file removed" in err, err
    assert "upload" not in err, err
    assert "Traceback" not in err, err
    assert list(tmp_path.iterdir()) == []  # no temp file, nothing at the destination


def test_ctrl_c_during_an_upload_aborts_it_and_says_so(tmp_path, isolate_aws_env) -> None:
    src = tmp_path / "big"
    src.write_bytes(b"x" * (20 * 1024 * 1024))
    release = threading.Event()
    raw = stalling_server(release)
    with raw:
        try:
            code, err = interrupt(
                raw, isolate_aws_env, tmp_path, "cp", str(src), "s3://b/k", stalled="PUT"
            )
            wait_for(lambda: any(m == "DELETE" for m, _ in raw.requests), timeout=5)
        finally:
            release.set()
    assert code == 130, err
    assert "interrupted; the upload was stopped (a multipart upload it began is aborted)" in err
    assert ("DELETE", "/b/k?uploadId=up-1") in raw.requests  # the abort really went out


def test_ctrl_c_under_json_is_a_json_error(tmp_path, isolate_aws_env) -> None:
    release = threading.Event()
    raw = stalling_server(release)
    with raw:
        try:
            code, err = interrupt(
                raw, isolate_aws_env, tmp_path, "cp", "s3://b/k", "out", "--json", stalled="GET"
            )
        finally:
            release.set()
    assert code == 130, err
    record = json.loads(err)  # one JSON object, nothing else
    assert record["exit_code"] == 130 and record["type"] == "KeyboardInterrupt", record
    assert record["error"].startswith("interrupted; the download was stopped"), record
