"""Argument parsing only (click's CliRunner, no server): bad arguments exit 2 before any I/O."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from s3flow.cli.copying import local_target
from s3flow.cli.main import main, parse_size
from s3flow.cli.render import format_rate, format_size
from s3flow.cli.sync import rule_filters, sync
from s3flow.cli.uploads import parse_duration
from s3flow.errors import InvalidKey


@pytest.mark.parametrize(
    "argv",
    [
        ["cp", "a.txt", "b.txt"],  # neither side is s3://
        ["cp", "-r", "-", "s3://b/k"],  # stdin with --recursive
        ["cp", "-", "s3://b/dir/"],  # stdin needs a key
        ["cp", "s3://b/dir/", "x"],  # a prefix without --recursive
        ["cp", "s3://", "x"],  # no bucket
        ["cp", "--concurrency-objects", "4", "s3://b/k", "x"],  # objects in flight, one object
        ["cp", "-r", "--concurrency-objects", "0", "s3://b/p/", "x"],
        ["mb", "s3://b/key"],
        ["mb", "not-a-url"],
        ["rm", "s3://bucket"],  # no key and no --recursive
        ["cat", "s3://bucket/"],
        ["presign", "s3://b/k", "--expires-in", "0"],
        ["presign", "s3://b/k", "--method", "DELETE"],
        ["--part-size", "1MiB", "ls"],  # below the S3 minimum
        ["--part-size", "lots", "ls"],
        ["--concurrency", "0", "ls"],
        ["frobnicate"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str]) -> None:
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_cp_recursive_passes_objects_in_flight(monkeypatch: pytest.MonkeyPatch) -> None:
    import s3flow.cli.copying as copying

    jobs = []

    async def run_job(options: object, job: object, **_: object) -> None:
        jobs.append(job)

    monkeypatch.setattr(copying, "run_job", run_job)
    for extra in ([], ["--concurrency-objects", "7"]):
        result = CliRunner().invoke(main, ["cp", "-r", *extra, "s3://b/p/", "out"])
        assert result.exit_code == 0, result.output
    assert [job.options.concurrency for job in jobs] == [32, 7]


def test_help_lists_every_verb_with_its_docstring() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "Copy between local paths and s3:// URLs" in result.output
    for verb in ("ls", "mb", "rb", "cp", "rm", "cat", "presign", "acl"):
        assert f"  {verb} " in result.output
    assert "public-read" in CliRunner().invoke(main, ["acl", "set", "--help"]).output


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("8MiB", 8 * 2**20),
        ("16M", 16 * 2**20),
        ("1g", 2**30),
        ("5242880", 5 * 2**20),
        ("1.5KiB", 1536),
    ],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_human_units() -> None:
    assert format_size(0) == "0 B"
    assert format_size(1536) == "1.5 KiB"
    assert format_size(2**30) == "1.0 GiB"
    assert format_rate(104 * 2**20) == "104 MiB/s"


@pytest.mark.parametrize(
    "relative",
    ["../x", "a/../../x", "a/..", "..\\x", "a\\..\\..\\x", "/etc/passwd", "\\x", "C:/x", "a\x00b"],
)
def test_keys_that_would_escape_are_refused(relative: str) -> None:
    with pytest.raises(InvalidKey, match="escape"):
        local_target(Path("dest"), relative, bucket="b", key=relative)


@pytest.mark.parametrize(
    ("relative", "expected"),
    [("a.txt", "dest/a.txt"), ("a/b/c", "dest/a/b/c"), ("./a", "dest/a"), ("a..b", "dest/a..b")],
)
def test_safe_keys_map_inside(relative: str, expected: str) -> None:
    assert local_target(Path("dest"), relative, bucket="b", key=relative) == Path(expected)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("24h", 86400), ("30m", 1800), ("7d", 604800), ("1d12h", 129600), ("90s", 90), ("1.5h", 5400)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "24", "h", "2x", "1h-", "-1h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_include_exclude_keep_their_order_across_flags() -> None:
    argv = ["d", "s3://b/p", "--exclude", "*", "--include", "*.jpg", "--exclude", "tmp/*"]
    ctx = sync.make_context("sync", argv)
    filters = rule_filters(ctx, ctx.params["exclude"], ctx.params["include"])
    assert [(r.kind, r.pattern) for r in filters.rules] == [
        ("exclude", "*"),
        ("include", "*.jpg"),
        ("exclude", "tmp/*"),
    ]
    assert filters.allows("a/cat.jpg") and not filters.allows("tmp/cat.jpg")
    assert not filters.allows("notes.txt")


@pytest.mark.parametrize(
    "argv",
    [
        ["sync", "a", "b"],  # both local
        ["sync", "-", "s3://b/p"],
        ["sync", "d", "s3://"],
        ["sync", "--size-only", "--checksum", "d", "s3://b/p"],
        ["sync", "--delete", "--from-list", "keys.txt", "d", "s3://b/p"],
        ["sync", "--listing-order", "lexical", "d", "s3://b/p"],
        ["cp", "-r", "-n", "d", "s3://b/p"],
        ["uploads", "abort", "s3://b", "--older-than", "soon"],
    ],
)
def test_bulk_usage_errors_exit_2(argv: list[str]) -> None:
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 2, result.output


def test_fsync_flag_reaches_the_transfer_config(monkeypatch: pytest.MonkeyPatch) -> None:
    import s3flow.cli.copying as copying

    seen = []

    async def run_job(options: object, job: object, **_: object) -> None:
        seen.append(options)

    monkeypatch.setattr(copying, "run_job", run_job)
    for extra in ([], ["--fsync"]):
        result = CliRunner().invoke(main, [*extra, "cp", "-r", "s3://b/p/", "out"])
        assert result.exit_code == 0, result.output
    assert [options.config.fsync for options in seen] == [False, True]
