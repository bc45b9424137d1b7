"""Hostile servers: one that goes away mid-job (what is left must let the rerun finish the
job), and raw servers that answer single-object requests with malformed sizes (one-line
errors, nothing written; the cases themselves are in tests/api/test_hostile_replies.py).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

import s3flow
from s3flow import S3FlowError
from tests.api.test_hostile_replies import CASES, server_for
from tests.api.test_hostile_replies import CONFIG as RAW_CONFIG

from .helpers import CONFIG, SIZE
from .proxy import Fault, FaultProxy, Rule
from .test_faults import orphans, sha256, stored_sha


async def test_server_gone_mid_upload_keeps_the_journal_and_the_rerun_resumes(
    proxy: FaultProxy, faulty, direct, bucket, key, source, reliability_row, tmp_path, monkeypatch
) -> None:
    """After the first part every request is reset (the server is gone), so the parts fail
    and so does the abort. The upload stays on the server; the journal stays beside it, and
    the rerun, once the server is back, sends only the missing parts."""
    row = reliability_row("server gone after part 1 (abort fails too)", "every request")
    state = tmp_path / "state"
    monkeypatch.setenv("S3FLOW_STATE_DIR", str(state))
    src, data = source(2)
    config = replace(CONFIG, max_concurrency=1)  # parts in order: part 1 is the one that lands
    row.tried += 1
    async with faulty(config=config) as s3:
        real = s3.backend.upload_part

        async def then_gone(*args, **kwargs):  # type: ignore[no-untyped-def]
            sent = await real(*args, **kwargs)
            proxy.configure([Rule(Fault.RESET_REQUEST, 1.0)], seed=0)
            return sent

        s3.backend.upload_part = then_gone  # type: ignore[method-assign]
        with pytest.raises(S3FlowError):
            await s3.upload_file(src, bucket, key, resume=True)
        injected = sum(proxy.injected().values())
        assert injected > 0
        assert len(await orphans(direct, bucket, key)) == 1  # the abort never arrived
        assert len(list((state / "journal").glob("upload-*.jsonl"))) == 1

        proxy.configure([])  # the server is back
        s3.backend.upload_part = real  # type: ignore[method-assign]
        result = await s3.upload_file(src, bucket, key, resume=True)
    row.retries = result.retries
    row.injected = injected
    ok = await stored_sha(direct, bucket, key) == sha256(data)
    row.completed_right_bytes += ok
    row.bytes_lost += 0 if ok else SIZE
    row.orphaned_uploads = len(await orphans(direct, bucket, key))
    assert ok
    assert result.resumed_parts == 1
    assert row.orphaned_uploads == 0
    assert list((state / "journal").glob("*.jsonl")) == []


async def test_malformed_sizes_from_a_raw_server_fail_cleanly(reliability_row, tmp_path) -> None:
    row = reliability_row(
        f"malformed size in a HEAD/GET answer ({len(CASES)} kinds x 2 backends)", "every answer"
    )
    for case in CASES:
        for fast_path in (True, False):
            row.tried += 1
            dest = tmp_path / f"{case}-{fast_path}"
            with server_for(case) as server:
                async with s3flow.connect(
                    endpoint_url=server.url,
                    access_key="AKIDEXAMPLE",
                    secret_key="not-a-secret",
                    config=RAW_CONFIG,
                    fast_path=fast_path,
                ) as s3:
                    try:
                        await s3.download_file("b", "k", dest)
                    except S3FlowError as exc:
                        one_line = "\n" not in str(exc) and str(exc).startswith("s3://b/k: ")
                        row.failed_cleanly += one_line and list(tmp_path.iterdir()) == []
                    # else: a malformed answer was taken as good; the assert below fails
                row.injected += len(server.requests)
    assert row.failed_cleanly == row.tried
