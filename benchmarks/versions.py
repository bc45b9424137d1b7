"""Where and with what a benchmark ran: machine, Python, tool versions, command."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from importlib import metadata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmarks.anchors import Anchors


def _first_line(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return "unavailable"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else "?"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment(anchors: Anchors, argv: list[str], started: float) -> dict[str, object]:
    tools: dict[str, str] = {}
    try:
        tools["s3flow"] = metadata.version("s3flow")
    except metadata.PackageNotFoundError:
        tools["s3flow"] = "not installed"
    if anchors.python:
        code = (
            "from importlib.metadata import version as v;"
            "print(' '.join(f'{p}={v(p)}' for p in ('boto3','awscrt','obstore')))"
        )
        for item in _first_line([str(anchors.python), "-c", code]).split():
            name, _, ver = item.partition("=")
            tools[name] = ver
    if anchors.s5cmd:
        tools["s5cmd"] = _first_line([str(anchors.s5cmd), "version"])
    if anchors.rclone:
        tools["rclone"] = _first_line([str(anchors.rclone), "version"])
    return {
        "command": " ".join(["python -m benchmarks.run", *argv]),
        "started": dt.datetime.fromtimestamp(started, dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, {_cpu_model()}, {platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "server": "SeaweedFS (weed server, S3 gateway) on 127.0.0.1, same machine",
        "tools": tools,
    }
