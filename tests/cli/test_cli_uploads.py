"""``s3flow uploads ls|abort`` against moto, with pending uploads made through the API."""

from __future__ import annotations

import json

import s3flow


async def _start_upload(server, bucket: str, key: str) -> str:
    async with s3flow.connect(
        endpoint_url=server.endpoint_url,
        access_key=server.access_key,
        secret_key=server.secret_key,
        region=server.region,
    ) as s3:
        return await s3.backend.create_multipart_upload(bucket, key)


async def test_list_and_abort_pending_uploads(cli, moto_server, bucket) -> None:
    kept = await _start_upload(moto_server, bucket, "other/kept.bin")
    stale = await _start_upload(moto_server, bucket, "logs/stale bin")

    listed = cli("uploads", "ls", f"s3://{bucket}")
    assert listed.code == 0, listed
    assert sorted(line.split("  ", 2)[1:] for line in listed.text.splitlines()) == sorted(
        [[kept, "other/kept.bin"], [stale, "logs/stale bin"]]
    )
    records = [
        json.loads(line)
        for line in cli("--json", "uploads", "ls", f"s3://{bucket}/logs/").text.splitlines()
    ]
    assert [(r["key"], r["upload_id"]) for r in records] == [("logs/stale bin", stale)]
    assert records[0]["initiated"]  # an ISO timestamp

    # moto reports every upload as initiated on 2010-11-10: none is 20,000 days old.
    young = cli("uploads", "abort", f"s3://{bucket}", "--older-than", "20000d")
    assert young.code == 0 and young.text == "aborted 0 uploads\n", young

    dry = cli("uploads", "abort", f"s3://{bucket}/logs/", "--dry-run")
    assert dry.text.splitlines() == [
        f"(dryrun) abort: s3://{bucket}/logs/stale bin ({stale})",
        "would abort 1 upload",
    ]
    aborted = cli("uploads", "abort", f"s3://{bucket}/logs/", "--older-than", "24h")
    assert aborted.text.splitlines()[-1] == "aborted 1 upload", aborted
    left = cli("uploads", "ls", f"s3://{bucket}").text
    assert stale not in left and kept in left
