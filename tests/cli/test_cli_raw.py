"""``--raw`` (s5cmd) through the real console script against moto: ``*`` and ``?`` in an
s3:// key are taken literally by ls, cp, mv and rm, so keys holding them can be named;
without it they stay wildcards."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.cli.helpers import get, put

if TYPE_CHECKING:
    from pathlib import Path


def test_raw_names_keys_that_hold_wildcard_characters(
    cli, moto_server, bucket, tmp_path: Path
) -> None:
    for key, body in {
        "a*b.txt": b"star",
        "axxb.txt": b"xx",
        "q?.log": b"q",
        "qz.log": b"z",
    }.items():
        put(moto_server, bucket, key, body)

    pattern = cli("ls", f"s3://{bucket}/a*b.txt")
    literal = cli("ls", "--raw", f"s3://{bucket}/a*b.txt")
    assert pattern.code == 0 and literal.code == 0, (pattern, literal)
    assert "axxb.txt" in pattern.text and "a*b.txt" in pattern.text, pattern.text
    assert "a*b.txt" in literal.text and "axxb.txt" not in literal.text, literal.text

    got = cli("cp", "--raw", f"s3://{bucket}/a*b.txt", "got.txt")
    assert got.code == 0, got
    assert (tmp_path / "got.txt").read_bytes() == b"star"

    (tmp_path / "up.txt").write_bytes(b"up")
    refused = cli("cp", "up.txt", f"s3://{bucket}/new*.txt")
    assert refused.code == 2, refused
    uploaded = cli("cp", "--raw", "up.txt", f"s3://{bucket}/new*.txt")
    assert uploaded.code == 0, uploaded
    assert get(moto_server, bucket, "new*.txt") == b"up"

    removed = cli("rm", "--raw", f"s3://{bucket}/q?.log")
    assert removed.code == 0, removed
    assert get(moto_server, bucket, "q?.log") is None
    assert get(moto_server, bucket, "qz.log") == b"z"

    moved = cli("mv", "--raw", f"s3://{bucket}/a*b.txt", f"s3://{bucket}/moved.txt")
    assert moved.code == 0, moved
    assert get(moto_server, bucket, "moved.txt") == b"star"
    assert get(moto_server, bucket, "a*b.txt") is None
    assert get(moto_server, bucket, "axxb.txt") == b"xx"
