"""Test helpers: real S3 servers (SeaweedFS, moto) and a stdlib SigV4 signer."""

from __future__ import annotations

from s3flow.testing.servers import (
    MOTO_ACCESS_KEY,
    MOTO_SECRET_KEY,
    MotoServer,
    S3Response,
    S3Server,
    SeaweedFS,
    ServerStartError,
    find_weed,
    run_moto,
    run_seaweedfs,
    s3_request,
    sign_v4,
)

__all__ = [
    "MOTO_ACCESS_KEY",
    "MOTO_SECRET_KEY",
    "MotoServer",
    "S3Response",
    "S3Server",
    "SeaweedFS",
    "ServerStartError",
    "find_weed",
    "run_moto",
    "run_seaweedfs",
    "s3_request",
    "sign_v4",
]
