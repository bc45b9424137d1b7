"""Run the real ``s3flow`` console script in a subprocess; put and get objects directly."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from s3flow.testing.servers import S3Server, s3_request

__all__ = ["Run", "cli_env", "finish", "get", "put", "start"]

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
    """Start ``s3flow [--endpoint-url URL] ARGS`` without waiting (for parallel error cases).

    Ctrl-C is restored to its default in the child: a test run started in the background of
    a shell inherits SIGINT ignored, and Python then never turns it into KeyboardInterrupt.
    """
    assert SCRIPT, "the s3flow console script is not installed; run `make venv`"
    prefix = ("--endpoint-url", server.endpoint_url) if endpoint else ()
    return subprocess.Popen(
        [SCRIPT, *prefix, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(server, home) | ({"AWS_SECRET_ACCESS_KEY": secret} if secret else {}),
        cwd=cwd,
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def finish(server: S3Server, proc: subprocess.Popen[bytes], input: bytes = b"") -> Run:
    out, err = proc.communicate(input, timeout=60)
    run = Run(tuple(map(str, proc.args)), proc.returncode, out, err.decode(errors="replace"))  # type: ignore[arg-type]
    # The secret must never be printed, whatever the verb, the outcome or --debug.
    assert server.secret_key.encode() not in out and server.secret_key not in run.err, run.args
    return run


def put(server: S3Server, bucket: str, key: str, body: bytes) -> None:
    """Store an object directly (keys the CLI would refuse to create, too)."""
    assert s3_request(server, "PUT", f"/{bucket}/{key}", body=body).status == 200


def get(server: S3Server, bucket: str, key: str) -> bytes | None:
    """An object's bytes read directly, or None if it is absent."""
    response = s3_request(server, "GET", f"/{bucket}/{key}")
    return response.body if response.status == 200 else None
