"""Keys are data from the server: printed raw, an OSC sequence in one sets the terminal's
title and a CR rewrites the line. Every human line escapes control characters; --json stays
exact (JSON escapes them itself)."""

from __future__ import annotations

import json
import uuid

import pytest

from s3flow.testing.servers import S3Server, s3_request
from tests.cli.helpers import get, put

HOSTILE = {
    "osc/title\x1b]0;pwned\x07.txt": b"one",
    "cr/rewrite\rDONE.txt": b"two",
    "nl/two\nlines.txt": b"three",
    "c1/csi\u009b31m.txt": b"four",
}
RAW = ("\x1b", "\x07", "\r", "\u009b")


def assert_safe(text: str) -> None:
    for char in RAW:
        assert char not in text, (char, text)


def form_put(server: S3Server, bucket: str, key: str, body: bytes) -> None:
    """Store an object by a browser-style form POST: moto routes no path with a newline."""
    boundary = uuid.uuid4().hex.encode()
    fields = [(b'name="key"', key.encode()), (b'name="file"; filename="f"', body)]
    data = (
        b"".join(
            b"--"
            + boundary
            + b"\r\nContent-Disposition: form-data; "
            + disposition
            + b"\r\n\r\n"
            + value
            + b"\r\n"
            for disposition, value in fields
        )
        + b"--"
        + boundary
        + b"--\r\n"
    )
    content_type = f"multipart/form-data; boundary={boundary.decode()}"
    answer = s3_request(
        server, "POST", f"/{bucket}", body=data, headers={"content-type": content_type}
    )
    assert answer.status in (200, 204), answer


@pytest.fixture
def hostile(moto_server, bucket):
    for key, body in HOSTILE.items():
        (form_put if "\n" in key else put)(moto_server, bucket, key, body)
    return bucket


def test_ls_escapes_and_json_is_exact(cli, hostile) -> None:
    run = cli("ls", "-r", f"s3://{hostile}/")
    assert run.code == 0, run
    assert_safe(run.text)
    lines = run.text.splitlines()
    assert len(lines) == len(HOSTILE)  # "\n" in a key does not make two lines
    assert any(line.endswith("osc/title\\x1b]0;pwned\\x07.txt") for line in lines), lines
    assert any(line.endswith("nl/two\\nlines.txt") for line in lines), lines

    run = cli("--json", "ls", "-r", f"s3://{hostile}/")
    assert {json.loads(line)["key"] for line in run.text.splitlines()} == set(HOSTILE)


def test_ls_one_level_escapes_prefixes(cli, moto_server, bucket) -> None:
    put(moto_server, bucket, "dir\x1b[2J/x", b"x")
    run = cli("ls", f"s3://{bucket}/")
    assert run.code == 0, run
    assert_safe(run.text)
    assert "dir\\x1b[2J/" in run.text


def test_cp_download_and_rm_lines_escape(cli, moto_server, hostile, tmp_path) -> None:
    key = "osc/title\x1b]0;pwned\x07.txt"
    run = cli("cp", f"s3://{hostile}/{key}", "got")
    assert run.code == 0, run
    assert (tmp_path / "got").read_bytes() == HOSTILE[key]
    assert_safe(run.text + run.err)
    assert "title\\x1b]0;pwned\\x07.txt" in run.text

    run = cli("rm", f"s3://{hostile}/{key}")
    assert run.code == 0, run
    assert_safe(run.text + run.err)
    assert "delete: " in run.text and "\\x1b" in run.text

    run = cli("rm", "--recursive", f"s3://{hostile}/")
    assert run.code == 0, run
    assert_safe(run.text + run.err)
    assert len(run.text.splitlines()) == len(HOSTILE) - 1
    assert get(moto_server, hostile, "cr/rewrite\rDONE.txt") is None


def test_bulk_copy_lines_escape(cli, hostile, tmp_path) -> None:
    run = cli("cp", "-r", f"s3://{hostile}/", "out/")
    # moto cannot serve a GET for the key with a newline (no route matches): that object
    # fails, and its "failed:" line is escaped too.
    assert run.code == 1, run
    assert_safe(run.text + run.err)
    assert len(run.text.splitlines()) == len(HOSTILE)  # one per copied object and the summary
    assert "failed: " in run.err and "nl/two\\nlines.txt" in run.err, run.err
    assert (tmp_path / "out" / "cr" / "rewrite\rDONE.txt").read_bytes() == b"two"


def test_errors_naming_a_hostile_key_are_escaped(cli, hostile) -> None:
    run = cli("cp", f"s3://{hostile}/missing\x1b]0;pwned\x07\r", "got")
    line = run.assert_one_line_error()
    assert_safe(run.err)
    assert "missing\\x1b]0;pwned\\x07\\r" in line


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain/ünï 日本.txt", "plain/ünï 日本.txt"),
        ("t\x1b]0;pwned\x07", "t\\x1b]0;pwned\\x07"),
        ("a\rb\nc\td", "a\\rb\\nc\\td"),
        ("del\x7f c1\x9b", "del\\x7f c1\\x9b"),
        ("bidi\u202eexe.txt", "bidi\\u202eexe.txt"),
        ("line\u2028sep", "line\\u2028sep"),
        ("not-utf8-\udcff", "not-utf8-\\xff"),  # os.fsdecode(b"not-utf8-\xff")
    ],
)
def test_printable(raw: str, shown: str) -> None:
    from s3flow.cli.render import printable

    assert printable(raw) == shown


def test_debug_log_lines_and_bar_labels_are_escaped() -> None:
    import logging

    from s3flow.cli.live import new_display
    from s3flow.cli.render import SafeFormatter

    record = logging.LogRecord("s3flow", logging.DEBUG, "f", 1, "GET /b/k\x1b]0;x\x07", (), None)
    assert SafeFormatter("%(message)s").format(record) == "GET /b/k\\x1b]0;x\\x07"

    display = new_display()  # rich markup in a key must not become a hyperlink or a style
    column = display.columns[0]
    assert getattr(column, "markup", True) is False


@pytest.mark.parametrize(
    "argv",
    [
        ["mb", "s3://bb/k\x1b]0;x\x07"],
        ["cat", "s3://bb/k\x1b]0;x\x07/"],
        ["cp", "s3://b/d\x1b]0;x\x07/", "x"],
        ["cp", "-", "s3://b/\x1b]0;x\x07/"],
        ["ls", "s3:/\x1b]0;x\x07"],
    ],
)
def test_argument_errors_escape_what_was_typed(argv: list[str]) -> None:
    from click.testing import CliRunner

    from s3flow.cli.main import main

    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 2
    assert_safe(result.output)
    assert "\\x1b]0;x\\x07" in result.output
