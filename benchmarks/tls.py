"""HTTPS for the benchmark's SeaweedFS: a throwaway certificate for 127.0.0.1, made at run time.

SeaweedFS serves S3 over TLS beside plain HTTP (``-s3.port.https``); the same objects are
reachable both ways. Every tool trusts the certificate the way users trust a private CA:
``AWS_CA_BUNDLE`` (s3flow, boto3, s5cmd), ``RCLONE_CA_CERT`` for rclone (it fails while
``AWS_CA_BUNDLE`` is set).
"""

from __future__ import annotations

import socket
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True, kw_only=True)
class Tls:
    port: int
    cert: Path
    key: Path

    def weed_args(self) -> tuple[str, ...]:
        """``weed server`` flags that add the HTTPS S3 port."""
        return (
            f"-s3.port.https={self.port}",
            f"-s3.cert.file={self.cert}",
            f"-s3.key.file={self.key}",
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_tls(directory: Path) -> Tls:
    """A self-signed P-256 certificate for IP 127.0.0.1 (and localhost), valid 30 days."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return Tls(port=_free_port(), cert=cert, key=key)
