"""The real console script against a raw misbehaving server on 127.0.0.1: malformed sizes
in HEAD/GET answers end in one ``Error:`` line naming the object, never a traceback."""

from __future__ import annotations

import pytest

from s3flow.testing.servers import S3Server
from tests.api.test_hostile_replies import CASES, server_for
from tests.cli.helpers import finish, start


@pytest.mark.parametrize("verb", ["cp", "cat"])
@pytest.mark.parametrize("case", list(CASES))
def test_malformed_size_is_one_error_line(case, verb, tmp_path, isolate_aws_env) -> None:
    with server_for(case) as raw:
        server = S3Server(raw.url, "AKIDEXAMPLE", "not-a-secret")
        args = ("cp", "s3://b/dir/k", "out") if verb == "cp" else ("cat", "s3://b/dir/k")
        run = finish(server, start(server, isolate_aws_env, *args, cwd=tmp_path))
    line = run.assert_one_line_error()
    assert line.startswith("Error: s3://b/dir/k: "), line
    assert run.code == 1
    assert list(tmp_path.iterdir()) == []  # nothing at the destination, no temp file
