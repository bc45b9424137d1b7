"""What a bulk job tells its progress sink about the listing: each object it queues
(so a display's total grows with the listing) and when the listing has ended."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from s3flow.bulk.runner import SyncOptions, sync
from s3flow.models import S3Location
from s3flow.progress import ListingDone, ObjectDone, ObjectQueued, ProgressEvent
from s3flow.testing.memory import MemoryBackend

if TYPE_CHECKING:
    from pathlib import Path


async def test_every_action_is_queued_once_before_the_listing_ends(tmp_path: Path) -> None:
    backend = MemoryBackend()
    backend.buckets["b"] = {}
    for i in range(40):
        await backend.put_object("b", f"src/k{i:02}", bytes(i))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "k00").write_bytes(b"")  # same size: a skip, never queued
    os.utime(tmp_path / "out" / "k00", (4e9, 4e9))
    (tmp_path / "out" / "extra").write_bytes(b"xx")  # deleted: queued as a delete
    events: list[ProgressEvent] = []
    options = SyncOptions(delete=True, concurrency=2, progress=events.append)
    summary = await sync(
        S3Location("b", "src/"), tmp_path / "out", source_backend=backend, options=options
    )
    assert (summary.copied, summary.skipped, summary.deleted) == (39, 1, 1)

    queued = [e for e in events if isinstance(e, ObjectQueued)]
    assert sorted((e.key, e.action, e.nbytes) for e in queued) == sorted(
        [(f"k{i:02}", "copy", i) for i in range(1, 40)] + [("extra", "delete", 2)]
    )
    ends = [i for i, e in enumerate(events) if isinstance(e, ListingDone)]
    assert len(ends) == 1 and ends[0] > max(events.index(e) for e in queued)
    # Every queued object ends in exactly one ObjectDone.
    done = [e.key for e in events if isinstance(e, ObjectDone) and e.action != "skip"]
    assert sorted(done) == sorted(e.key for e in queued)
