"""Keys whose last part is as long as a file name can be (255 bytes) download, one at a
time and in bulk: the temp file beside the destination must fit NAME_MAX too."""

from __future__ import annotations

import os
import random

import pytest

from s3flow.config import MiB
from s3flow.localfs import is_temp_name
from s3flow.models import S3Location

NAMES = {
    "238": "x" * 234 + ".bin",
    "255": "y" * 251 + ".bin",
    "255-utf8": "é" * 125 + "z.bin",  # 250 + 5 bytes
}


@pytest.mark.parametrize("size", [1000, 12 * MiB], ids=["one-range", "ranged"])
@pytest.mark.parametrize("name", list(NAMES.values()), ids=list(NAMES))
async def test_download_a_key_with_a_255_byte_name(s3, bucket, tmp_path, name, size) -> None:
    assert len(os.fsencode(name)) in (238, 255)
    data = random.Random(size).randbytes(size)
    key = f"dir/{name}"
    if size > MiB:
        (tmp_path / "src").write_bytes(data)
        await s3.upload_file(tmp_path / "src", bucket, key)
    else:
        await s3.put_object(bucket, key, data)
    dest = tmp_path / "out"
    dest.mkdir()
    result = await s3.download_file(bucket, key, dest / name)
    assert (dest / name).read_bytes() == data
    assert result.parts == (1 if size < MiB else 3)
    assert os.listdir(dest) == [name]


async def test_bulk_download_of_255_byte_names(s3, bucket, tmp_path) -> None:
    objects = {f"p/{n}": random.Random(i).randbytes(100 + i) for i, n in enumerate(NAMES.values())}
    for key, data in objects.items():
        await s3.put_object(bucket, key, data)
    summary = await s3.sync(S3Location(bucket, "p/"), tmp_path / "out")
    assert summary.failed == 0 and summary.copied == len(objects)
    for key, data in objects.items():
        assert (tmp_path / "out" / key.removeprefix("p/")).read_bytes() == data
    assert not [n for n in os.listdir(tmp_path / "out") if is_temp_name(n)]
