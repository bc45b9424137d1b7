"""Fault-injection fixtures over the session's SeaweedFS, and the ``--reliability-report``.

``fault_proxy`` is a session-scoped, synchronous fixture: a :class:`FaultProxy` in its own
thread in front of SeaweedFS. Each test gets it with no rules (``proxy``), a direct,
fault-free client for setup and checks (``direct``), the session's ``bucket`` with a
``key`` of its own (cleaned up after), and ``faulty(...)`` to open an s3flow client
through the proxy.

With ``--reliability-report`` the rows tests add through ``reliability_row`` are printed as
a markdown table at the end of the session and written to
``benchmarks/results/reliability.md``.
"""

from __future__ import annotations

import functools
import random
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import s3flow
from s3flow.client import S3Client, compose
from s3flow.config import ConnectConfig, TransferConfig
from s3flow.testing.servers import s3_request

from .helpers import CONFIG, READ_TIMEOUT, SIZE, STALL_SECONDS, seed_with_early_hit
from .proxy import FaultProxy

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator

    from s3flow.testing.servers import S3Server

# Kept importable from here while branches that import them from conftest are in flight.
__all__ = ["CONFIG", "READ_TIMEOUT", "SIZE", "seed_with_early_hit"]

_ROWS = pytest.StashKey[list["Row"]]()


@dataclass
class Row:
    """One line of the reliability table (counts are transfers unless named otherwise)."""

    fault: str
    rate: str
    tried: int = 0
    completed_right_bytes: int = 0
    failed_cleanly: int = 0
    bytes_lost: int = 0
    orphaned_uploads: int = 0
    retries: int = 0
    injected: int = 0


_HEADERS = {
    "fault": "fault",
    "rate": "rate",
    "tried": "transfers tried",
    "completed_right_bytes": "completed, right bytes",
    "failed_cleanly": "failed cleanly",
    "bytes_lost": "bytes lost (must be 0)",
    "orphaned_uploads": "orphaned uploads (must be 0)",
    "retries": "retries",
    "injected": "faults injected",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--reliability-report",
        action="store_true",
        default=False,
        help="print the fault-injection table and write benchmarks/results/reliability.md",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_ROWS] = []


def render(rows: list[Row]) -> str:
    names = [f.name for f in fields(Row)]
    lines = [
        "| " + " | ".join(_HEADERS[n] for n in names) + " |",
        "|" + "|".join("---" if n in ("fault", "rate") else "---:" for n in names) + "|",
    ]
    lines += ["| " + " | ".join(str(getattr(r, n)) for n in names) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    if not config.getoption("--reliability-report", default=False):
        return
    rows = config.stash.get(_ROWS, [])
    table = render(rows)
    terminalreporter.section("reliability report")
    terminalreporter.write(table)
    out = config.rootpath / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    text = (
        "# s3flow reliability: faults injected between s3flow and SeaweedFS\n\n"
        f"{len(rows)} scenarios; `make reliability` regenerates this file.\n\n{table}"
    )
    (out / "reliability.md").write_text(text)
    terminalreporter.write_line(f"written to {out / 'reliability.md'}")


@pytest.fixture
def reliability_row(request: pytest.FixtureRequest) -> Callable[..., Row]:
    """``row = reliability_row(fault, rate)``: a row the test fills in; kept even if it fails."""

    def add(fault: str, rate: str) -> Row:
        row = Row(fault, rate)
        request.config.stash[_ROWS].append(row)
        return row

    return add


@functools.cache
def _data(seed: int) -> bytes:
    return random.Random(seed).randbytes(SIZE)


@pytest.fixture
def source(tmp_path):  # type: ignore[no-untyped-def]
    """``path, data = source(seed)``: SIZE pseudo-random bytes in a file (made once per seed)."""

    def make(seed: int) -> tuple[Path, bytes]:
        data = _data(seed)
        path = tmp_path / f"src-{seed}"
        path.write_bytes(data)
        return path, data

    return make


@pytest.fixture(scope="session")
def fault_proxy(seaweed_server: S3Server) -> Iterator[FaultProxy]:
    with FaultProxy(seaweed_server.endpoint_url, stall_seconds=STALL_SECONDS) as proxy:
        yield proxy


@pytest.fixture
def proxy(fault_proxy: FaultProxy) -> Iterator[FaultProxy]:
    """The session's proxy, with no rules at the start and at the end of the test."""
    fault_proxy.configure([])
    yield fault_proxy
    fault_proxy.configure([])


@pytest.fixture
async def direct(seaweed_server: S3Server) -> AsyncIterator[S3Client]:
    """A client straight to SeaweedFS (no faults): for setup and for checking results."""
    async with s3flow.connect(
        endpoint_url=seaweed_server.endpoint_url,
        access_key=seaweed_server.access_key,
        secret_key=seaweed_server.secret_key,
        config=CONFIG,
    ) as client:
        yield client


@pytest.fixture(scope="session")
def bucket(seaweed_server: S3Server) -> str:
    """One bucket for the session: SeaweedFS spends about a second on a new bucket's first
    write (volume growth), so tests share it and each works under its own ``key``."""
    name = f"rel-{uuid.uuid4().hex[:12]}"
    response = s3_request(seaweed_server, "PUT", f"/{name}")
    assert response.status == 200, response
    return name


@pytest.fixture
async def key(direct: S3Client, bucket: str) -> AsyncIterator[str]:
    """A key of this test's own; its object and any upload left under it are removed after."""
    prefix = f"t-{uuid.uuid4().hex[:12]}/"
    yield prefix + "obj"
    for upload in [u async for u in direct.list_uploads(bucket, prefix)]:
        await direct.abort_upload(bucket, upload.key, upload.upload_id)
    await direct.delete_objects(bucket, [o.key async for o in direct.list_objects(bucket, prefix)])


@pytest.fixture
def faulty(seaweed_server: S3Server, proxy: FaultProxy):  # type: ignore[no-untyped-def]
    """``async with faulty(read_timeout=None, config=CONFIG) as s3:`` a client via the proxy.

    ``s3flow.connect`` takes no read timeout (ConnectConfig.read_timeout is fixed at its
    60 s default there), so a test that stalls responses builds the client from
    ``s3flow.client.compose(ConnectConfig(read_timeout=...))`` and ``S3Client`` instead.
    """

    @asynccontextmanager
    async def open_client(
        *, read_timeout: float | None = None, config: TransferConfig = CONFIG
    ) -> AsyncIterator[S3Client]:
        if read_timeout is None:
            async with s3flow.connect(
                endpoint_url=proxy.url,
                access_key=seaweed_server.access_key,
                secret_key=seaweed_server.secret_key,
                config=config,
            ) as client:
                yield client
            return
        connect_config = ConnectConfig(
            endpoint_url=proxy.url,
            connect_timeout=5.0,
            read_timeout=read_timeout,
            max_pool_connections=64,
        )
        async with compose(
            connect_config,
            access_key=seaweed_server.access_key,
            secret_key=seaweed_server.secret_key,
        ) as backend:
            client = S3Client(backend, config, endpoint=proxy.url)
            try:
                yield client
            finally:
                client.close()

    return open_client
