"""The fast path's HTTP/1.1 client over TLS: a local server with a throwaway certificate."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import ipaddress
import os
import ssl
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from s3flow.backend.http11 import HttpClient, HttpError

if TYPE_CHECKING:
    from pathlib import Path

BODY = os.urandom(3 * 1024 * 1024 + 7)


def _certificate(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Echo a PUT body's SHA-256; answer a GET with BODY. Keep-alive until the client leaves."""
    try:
        while head := await reader.readuntil(b"\r\n\r\n"):
            request = head.decode("latin-1")
            length = 0
            for line in request.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if request.startswith("PUT"):
                body = hashlib.sha256(await reader.readexactly(length)).hexdigest().encode()
            else:
                body = BODY
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


@pytest.fixture
async def tls_server(tmp_path: Path):
    cert_file, key_file = _certificate(tmp_path)
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert_file, key_file)
    server = await asyncio.start_server(_answer, "127.0.0.1", 0, ssl=server_side)
    port = server.sockets[0].getsockname()[1]
    yield port, cert_file
    server.close()
    await server.wait_closed()


async def test_tls_get_put_and_keep_alive(tls_server) -> None:
    port, cert_file = tls_server
    client = HttpClient(
        limit=4,
        connect_timeout=5,
        read_timeout=5,
        tls=lambda: ssl.create_default_context(cafile=str(cert_file)),
    )
    async with asyncio.timeout(20), client:
        got: list[bytes] = []

        async def keep(chunks) -> None:
            got.extend(bytes(c) for c in chunks)

        async with client.request("https", "localhost", port, "GET", "/b/k", {}) as response:
            assert response.status == 200
            await response.stream(keep, batch=1024 * 1024)
        assert b"".join(got) == BODY
        payload = os.urandom(2 * 1024 * 1024 + 3)
        async with client.request("https", "localhost", port, "PUT", "/b/k", {}, payload) as r:
            assert await r.read() == hashlib.sha256(payload).hexdigest().encode()
        assert sum(len(idle) for idle in client._idle.values()) == 1  # one connection, reused


async def test_tls_refuses_an_untrusted_certificate(tls_server) -> None:
    port, _ = tls_server
    async with (
        asyncio.timeout(20),
        HttpClient(limit=1, connect_timeout=5, read_timeout=5) as client,
    ):
        with pytest.raises((ssl.SSLCertVerificationError, HttpError)):
            async with client.request("https", "localhost", port, "GET", "/b/k", {}):
                pass
