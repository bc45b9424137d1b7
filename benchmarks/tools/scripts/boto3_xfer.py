"""boto3 upload_file/download_file: defaults (sequential for many files) or tuned (thread pool).

Tuned: ``--part-size-mib`` and ``--concurrency`` set the TransferConfig, ``--workers`` the
thread pool for many files; every tuned run pools 64 connections (more if more threads).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import boto3
from _common import local_files, local_path, parse_args, tuned
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

MiB = 1024 * 1024


def main() -> None:
    a = parse_args()
    if tuned(a):
        pool = max(64, a.concurrency or 0, a.workers or 0)
        client = boto3.client(
            "s3",
            endpoint_url=a.endpoint,
            region_name=a.region,
            config=Config(max_pool_connections=pool),
        )
        knobs = {}
        if a.part_size_mib:
            knobs["multipart_chunksize"] = a.part_size_mib * MiB
        if a.concurrency:
            knobs["max_concurrency"] = a.concurrency
        cfg = TransferConfig(**knobs)
        if a.many and a.workers:  # each worker already is a thread: no nested pools
            cfg = TransferConfig(use_threads=False)
    else:
        client = boto3.client("s3", endpoint_url=a.endpoint, region_name=a.region)
        cfg = TransferConfig()
    if not a.many:
        if a.direction == "upload":
            client.upload_file(str(a.local), a.bucket, a.key, Config=cfg)
        else:
            client.download_file(a.bucket, a.key, str(a.local), Config=cfg)
        return
    if a.direction == "upload":
        jobs = [(client.upload_file, str(p), a.bucket, k) for p, k in local_files(a.local, a.key)]
    else:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=a.bucket, Prefix=a.key)
        keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
        jobs = [
            (client.download_file, a.bucket, k, str(local_path(a.local, a.key, k))) for k in keys
        ]
    if a.workers:
        with ThreadPoolExecutor(a.workers) as pool:
            for f in [pool.submit(fn, x, y, z, Config=cfg) for fn, x, y, z in jobs]:
                f.result()
    else:
        for fn, x, y, z in jobs:
            fn(x, y, z, Config=cfg)


if __name__ == "__main__":
    main()
