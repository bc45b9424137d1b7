"""The production shape: SeaweedFS over HTTPS with a throwaway CA, virtual-hosted buckets
(``BUCKET.s3.test``) and spare keys for rotation. One server for this directory's session."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from s3flow.testing.servers import run_seaweedfs
from tests.production.helpers import DOMAIN

if TYPE_CHECKING:
    from collections.abc import Iterator

    from s3flow.testing.servers import S3Server

# Kept importable from here while branches that import it from conftest are in flight.
__all__ = ["DOMAIN"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tls_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.seaweed)


@pytest.fixture(scope="session")
def tls_server() -> Iterator[S3Server]:
    """SeaweedFS with ``https_endpoint``/``ca_file``, ``-s3.domainName`` and 4 spare key pairs."""
    with run_seaweedfs(https=True, domain_name=DOMAIN, alternate_keys=4) as server:
        yield server
