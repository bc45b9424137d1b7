"""Run the real ``s3flow`` console script in a subprocess against the session's servers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from s3flow.testing.servers import S3Server, s3_request

SCRIPT = shutil.which("s3flow", path=str(Path(sys.executable).parent)) or shutil.which("s3flow")


@dataclass(frozen=True)
class Run:
    """One finished ``s3flow`` process."""

    args: tuple[str, ...]
    code: int
    out: bytes
    err: str

    @property
    def text(self) -> str:
        return self.out.decode()

    def assert_one_line_error(self) -> str:
        """Exit != 0, exactly one non-empty stderr line, starting with "Error:", no traceback."""
        lines = [line for line in self.err.splitlines() if line.strip()]
        assert self.code != 0, self
        assert "Traceback" not in self.err, self
        assert len(lines) == 1, self
        assert lines[0].startswith("Error: "), self
        return lines[0]


def cli_env(server: S3Server, home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_DEFAULT_REGION": server.region,
        "S3FLOW_STATE_DIR": str(home / "state"),
        "COLUMNS": "200",
    }


def start(
    server: S3Server,
    home: Path,
    *args: str,
    cwd: Path | None = None,
    endpoint: bool = True,
    secret: str | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``s3flow [--endpoint-url URL] ARGS`` without waiting (for parallel error cases)."""
    assert SCRIPT, "the s3flow console script is not installed; run `make venv`"
    prefix = ("--endpoint-url", server.endpoint_url) if endpoint else ()
    return subprocess.Popen(
        [SCRIPT, *prefix, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(server, home) | ({"AWS_SECRET_ACCESS_KEY": secret} if secret else {}),
        cwd=cwd,
    )


def finish(server: S3Server, proc: subprocess.Popen[bytes], input: bytes = b"") -> Run:
    out, err = proc.communicate(input, timeout=60)
    run = Run(tuple(map(str, proc.args)), proc.returncode, out, err.decode(errors="replace"))  # type: ignore[arg-type]
    # The secret must never be printed, whatever the verb, the outcome or --debug.
    assert server.secret_key.encode() not in out and server.secret_key not in run.err, run.args
    return run


@pytest.fixture
def cli(moto_server: S3Server, tmp_path: Path, isolate_aws_env: Path):
    """``cli("ls", "s3://b", input=b"")`` → Run, against moto, cwd = tmp_path."""

    def run(*args: str, input: bytes = b"", endpoint: bool = True) -> Run:
        proc = start(moto_server, isolate_aws_env, *args, cwd=tmp_path, endpoint=endpoint)
        return finish(moto_server, proc, input)

    return run


@pytest.fixture
def bucket(moto_server: S3Server) -> str:
    """A fresh empty bucket on moto (created without a subprocess, to keep the suite fast)."""
    name = f"cli-{uuid.uuid4().hex[:12]}"
    assert s3_request(moto_server, "PUT", f"/{name}").status == 200
    return name


def put(server: S3Server, bucket: str, key: str, body: bytes) -> None:
    """Store an object directly (keys the CLI would refuse to create, too)."""
    assert s3_request(server, "PUT", f"/{bucket}/{key}", body=body).status == 200


def get(server: S3Server, bucket: str, key: str) -> bytes | None:
    """An object's bytes read directly, or None if it is absent."""
    response = s3_request(server, "GET", f"/{bucket}/{key}")
    return response.body if response.status == 200 else None
