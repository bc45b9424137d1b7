"""Resume journal: one JSON line of header, then one line per finished part or range.

Uploads: the server (ListParts) stays the source of truth; the journal says
which upload belongs to which local file, and which parts we saw finish.
Downloads: it names the temp file and the object's ETag, and the ranges
already written there. A torn last line (kill -9 mid-write) is ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from s3flow.localfs import FileIdentity, run_io
from s3flow.models import Checksum, CompletedPart

__all__ = ["Journal", "JournalHeader", "journal_dir", "journal_path"]


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalHeader:
    source: str
    endpoint: str
    bucket: str
    key: str
    upload_id: str
    size: int
    mtime_ns: int
    part_size: int
    checksum: str
    temp: str = ""  # downloads: the temp file next to the destination
    etag: str = ""  # downloads: the object version being fetched

    @property
    def identity(self) -> FileIdentity:
        return FileIdentity(self.size, self.mtime_ns)


def journal_dir() -> Path:
    """``$S3FLOW_STATE_DIR`` or ``~/.local/state/s3flow/journal``."""
    base = os.environ.get("S3FLOW_STATE_DIR") or os.path.join(
        os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state"), "s3flow"
    )
    return Path(base) / "journal"


def journal_path(kind: str, source: str, endpoint: str, bucket: str, key: str) -> Path:
    name = hashlib.sha256("\0".join((kind, source, endpoint, bucket, key)).encode()).hexdigest()
    return journal_dir() / f"{kind}-{name[:32]}.jsonl"


def encode_part(part: CompletedPart) -> str:
    checksum = str(part.checksum) if part.checksum else None
    return json.dumps({"n": part.number, "etag": part.etag, "size": part.size, "ck": checksum})


def decode(text: str) -> tuple[JournalHeader | None, dict[int, CompletedPart]]:
    """Parse a journal; tolerate a torn last line."""
    lines = text.split("\n")
    try:
        header = JournalHeader(**json.loads(lines[0]))
    except (ValueError, TypeError):
        return None, {}
    parts: dict[int, CompletedPart] = {}
    for line in lines[1:]:
        try:
            entry = json.loads(line)
            ck = entry["ck"]
            checksum = Checksum(*ck.split(":", 1)) if ck else None
            parts[entry["n"]] = CompletedPart(entry["n"], entry["etag"], checksum, entry["size"])
        except (ValueError, KeyError, TypeError):
            continue
    return header, parts


class Journal:
    """Append-only journal file for one transfer."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def load(self) -> tuple[JournalHeader | None, dict[int, CompletedPart]]:
        def read() -> str:
            try:
                return self.path.read_text()
            except FileNotFoundError:
                return ""

        return decode(await run_io(self.path, read))

    async def start(self, header: JournalHeader) -> None:
        def write() -> None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            with open(tmp, "w") as f:
                f.write(json.dumps(asdict(header)) + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)

        await run_io(self.path, write)

    async def record(self, part: CompletedPart) -> None:
        # No fsync: after kill -9 the kernel still has the line; after a power
        # loss a lost line only means re-sending that part, and a resumed
        # download is verified end to end anyway. An fsync per part made
        # every part also wait for an ext4 journal commit.
        def append() -> None:
            with open(self.path, "a") as f:
                f.write(encode_part(part) + "\n")

        await run_io(self.path, append)

    def remove(self) -> None:
        # Synchronous: runs in cleanup paths that may be cancelled.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
