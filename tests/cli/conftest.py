"""Fixtures that run the real ``s3flow`` console script against the session's moto."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from s3flow.testing.servers import S3Server, s3_request
from tests.cli.helpers import Run, finish, get, put, start
from tests.helpers import process_cluster

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# Kept importable from here while branches that import them from conftest are in flight.
__all__ = ["Run", "finish", "get", "put", "start"]


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


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """Two Dask worker processes on 127.0.0.1; the CLI (another process) connects by address."""
    pytest.importorskip("distributed")
    with process_cluster(2) as cluster:
        yield cluster.scheduler_address
