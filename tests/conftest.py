"""Shared fixtures: AWS environment isolation, real S3 servers, deterministic payloads.

Helpers that test modules import live in ``tests/helpers.py`` (and each directory's
``helpers.py``), never here: pytest imports a conftest.py by itself, and importing it
again as a module makes a second copy of everything in it.

Server fixtures are synchronous and session-scoped (a thread or a subprocess), so they do not
depend on the event-loop scope. Tests that use ``seaweed_server`` (directly or through another
fixture) get the ``seaweed`` marker automatically: deselect them with ``-m "not seaweed"``.
"""

from __future__ import annotations

import os
import random
from typing import TYPE_CHECKING

import pytest

from s3flow.testing.servers import S3Server, run_moto, run_seaweedfs
from tests.helpers import TEST_CONFIG, open_client, read_range, temp_bucket

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

# Kept importable from here while branches that import them from conftest are in flight.
__all__ = ["TEST_CONFIG", "open_client", "read_range", "temp_bucket"]

_ENV_PREFIXES = ("AWS_", "BOTO_", "S3FLOW_")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs SeaweedFS, even through another fixture, with ``seaweed``."""
    for item in items:
        if "seaweed_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.seaweed)


@pytest.fixture(autouse=True)
def isolate_aws_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """No credentials, config or metadata service of this machine can leak into a test."""
    for name in list(os.environ):
        if name.upper().startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "missing-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "missing-aws-credentials"))
    return home


@pytest.fixture(scope="session")
def moto_server() -> Iterator[S3Server]:
    """moto on 127.0.0.1 (lenient: no signature or checksum checks); one per session."""
    with run_moto() as server:
        yield server


@pytest.fixture(scope="session")
def seaweed_server() -> Iterator[S3Server]:
    """SeaweedFS on 127.0.0.1 with real credentials; started only when a test asks for it."""
    with run_seaweedfs() as server:
        yield server


@pytest.fixture
def payload() -> Callable[..., bytes]:
    """``payload(size, seed=0)``: the same pseudo-random bytes for the same arguments."""

    def make(size: int, seed: int = 0) -> bytes:
        return random.Random(seed).randbytes(size)

    return make
