from __future__ import annotations

import base64
import hashlib
import random
import zlib

import crc32c
from hypothesis import given
from hypothesis import strategies as st

from s3flow.integrity import composite_checksum, crc_combine, digest, full_checksum, multipart_etag


def test_known_vectors() -> None:
    # CRC-32C("123456789") = 0xE3069283, CRC-32 = 0xCBF43926 (the standard check values)
    assert digest("crc32c", b"123456789").crc == 0xE3069283
    assert digest("crc32", b"123456789").crc == 0xCBF43926
    assert (
        digest("crc32c", b"123456789").checksum().value
        == base64.b64encode(bytes.fromhex("e3069283")).decode()
    )
    assert digest("md5", b"").checksum().value == "1B2M2Y8AsgTpgAmY7PhCfg=="


@given(st.binary(max_size=300), st.binary(max_size=300))
def test_crc_combine_matches_concatenation(a: bytes, b: bytes) -> None:
    assert crc_combine("crc32c", crc32c.crc32c(a), crc32c.crc32c(b), len(b)) == crc32c.crc32c(a + b)
    assert crc_combine("crc32", zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_full_and_composite_checksums() -> None:
    rng = random.Random(3)
    chunks = [rng.randbytes(n) for n in (1000, 1000, 17)]
    parts = [digest("crc32c", c) for c in chunks]
    assert full_checksum(parts) == digest("crc32c", b"".join(chunks)).checksum()
    joined = b"".join(p.crc.to_bytes(4, "big") for p in parts)
    expected = base64.b64encode(crc32c.crc32c(joined).to_bytes(4, "big")).decode()
    assert composite_checksum(parts).value == f"{expected}-3"


def test_multipart_etag() -> None:
    md5s = [hashlib.md5(b"a").digest(), hashlib.md5(b"b").digest()]
    assert multipart_etag(md5s) == hashlib.md5(b"".join(md5s)).hexdigest() + "-2"
