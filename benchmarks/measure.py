"""Run one tool as a child process and measure it the same way for every tool.

Wall time from ``time.perf_counter`` around the child; CPU (user + sys) and peak RSS from
``os.wait4``, i.e. the child's own rusage plus that of any children it reaped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


@dataclass(frozen=True, kw_only=True)
class ChildRun:
    """What one child process did: exit code, seconds, CPU seconds, peak RSS and stderr tail."""

    returncode: int
    wall_s: float
    user_s: float
    sys_s: float
    max_rss_mib: float
    output_tail: str

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s


def run_child(
    cmd: Sequence[str], *, env: Mapping[str, str], timeout: float, cwd: str | None = None
) -> ChildRun:
    """Run ``cmd`` to completion (SIGKILL of its process group after ``timeout`` s)."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            process_group=0,
        )
        timer = threading.Timer(timeout, _kill_group, (proc.pid,))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4, not by Popen
        out.seek(0)
        tail = out.read()[-2000:].decode(errors="replace")
    if proc.returncode == -signal.SIGKILL and wall >= timeout:
        tail += f"\n[timed out after {timeout:.0f} s]"
    return ChildRun(
        returncode=proc.returncode,
        wall_s=wall,
        user_s=usage.ru_utime,
        sys_s=usage.ru_stime,
        max_rss_mib=usage.ru_maxrss / 1024,  # Linux reports KiB
        output_tail=tail,
    )


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
