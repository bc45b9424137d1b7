"""``s3flow run FILE`` through the real console script against moto: lines split like a
shell (quotes, comments), run concurrently on one client, each failure named by FILE:LINE
(exit 1, the other lines still done), bad lines refused before anything runs (exit 2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.cli.helpers import get, put

if TYPE_CHECKING:
    from pathlib import Path


def test_a_batch_runs_every_line_and_splits_like_a_shell(
    cli, moto_server, bucket, tmp_path: Path
) -> None:
    for i in range(20):
        (tmp_path / f"f{i}.txt").write_bytes(b"x" * i)
    (tmp_path / "with space.txt").write_bytes(b"spaced")
    put(moto_server, bucket, "old report.pdf", b"old")
    lines = [
        "# uploads",
        *(f"cp f{i}.txt s3://{bucket}/up/f{i}.txt" for i in range(20)),
        "",
        f"cp 'with space.txt' \"s3://{bucket}/up/with space.txt\"  # quoted",
        f"rm 's3://{bucket}/old report.pdf'",
        f"mb s3://{bucket}-made",
    ]
    (tmp_path / "cmds.txt").write_text("\n".join(lines) + "\n")

    run = cli("run", "--concurrency-commands", "4", "cmds.txt")

    assert run.code == 0 and "Traceback" not in run.err, run
    for i in range(20):
        assert get(moto_server, bucket, f"up/f{i}.txt") == b"x" * i
    assert get(moto_server, bucket, "up/with space.txt") == b"spaced"
    assert get(moto_server, bucket, "old report.pdf") is None
    assert f"make_bucket: {bucket}-made" in run.text, run.text
    assert run.text.count("upload: ") == 21, run.text


def test_stdin_and_a_failed_line_named_while_the_others_finish(
    cli, moto_server, bucket, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_bytes(b"a")
    commands = (
        f"cp a.txt s3://{bucket}/a.txt\n"
        f"cp s3://{bucket}/missing.txt got.txt\n"
        f"cp a.txt s3://{bucket}/b.txt\n"
    )

    run = cli("run", "-", input=commands.encode())

    assert run.code == 1 and "Traceback" not in run.err, run
    errors = [line for line in run.err.splitlines() if line.startswith("Error: ")]
    assert errors[0].startswith("Error: -:2: "), run.err
    assert "missing.txt" in errors[0], errors
    assert errors[-1] == "Error: 1 of 3 commands failed", run.err
    assert get(moto_server, bucket, "a.txt") == b"a"
    assert get(moto_server, bucket, "b.txt") == b"a"
    assert not (tmp_path / "got.txt").exists()


def test_bad_lines_are_named_and_nothing_runs(cli, moto_server, bucket, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"a")
    lines = [
        f"cp a.txt s3://{bucket}/a.txt",
        f"cpp a.txt s3://{bucket}/x",
        f"cp --no-such-flag a.txt s3://{bucket}/y",
        "rm 's3://unclosed",
        f"cat s3://{bucket}/a.txt",
        "run other.txt",
        f"cp - s3://{bucket}/z",
    ]
    (tmp_path / "cmds.txt").write_text("\n".join(lines) + "\n")

    run = cli("run", "cmds.txt")

    assert run.code == 2 and "Traceback" not in run.err, run
    errors = run.err.splitlines()
    assert [e.split(": ", 2)[1] for e in errors] == [f"cmds.txt:{n}" for n in range(2, 8)], errors
    assert "no such command 'cpp'" in errors[0]
    assert "--no-such-flag" in errors[1]
    assert "cannot split" in errors[2]
    assert get(moto_server, bucket, "a.txt") is None  # the good line did not run either
