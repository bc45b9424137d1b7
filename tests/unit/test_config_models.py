from __future__ import annotations

import dataclasses
import re

import pytest

from s3flow.config import ConnectConfig, MiB, RetryPolicy, TransferConfig
from s3flow.errors import ConfigError
from s3flow.models import S3Location


def test_defaults_and_replace() -> None:
    config = TransferConfig()
    assert config.part_size >= 5 * MiB and config.retry.max_attempts == 5
    faster = dataclasses.replace(config, max_concurrency=32)
    assert faster.max_concurrency == 32 and config.max_concurrency != 32
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.part_size = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"part_size": MiB}, "between 5 MiB and 5 GiB"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"checksum": "sha1"}, "checksum must be one of"),
        ({"memory_limit": 1}, "memory_limit"),
    ],
)
def test_transfer_config_validation(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TransferConfig(**kwargs)  # type: ignore[arg-type]


def test_retry_policy_validation() -> None:
    with pytest.raises(ConfigError):
        RetryPolicy(max_attempts=0)


@pytest.mark.parametrize("url", ["notaurl", "ftp://x", "http://", "http://h:99999"])
def test_bad_endpoint_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="endpoint URL"):
        ConnectConfig(endpoint_url=url)


def test_path_style_for_custom_endpoints() -> None:
    assert ConnectConfig(endpoint_url="http://127.0.0.1:9000").use_path_style
    assert not ConnectConfig().use_path_style


@pytest.mark.parametrize(
    ("text", "bucket", "key"),
    [
        ("s3://b", "b", ""),
        ("s3://b/", "b", ""),
        ("s3://b/k/x.txt", "b", "k/x.txt"),
        ("s3://b/dir/", "b", "dir/"),
    ],
)
def test_location_parse(text: str, bucket: str, key: str) -> None:
    loc = S3Location.parse(text)
    assert (loc.bucket, loc.key) == (bucket, key)


@pytest.mark.parametrize("text", ["b/k", "s3://", "s3:///k", "/tmp/x"])
def test_location_bad_input(text: str) -> None:
    with pytest.raises(ConfigError, match="s3://bucket/key"):
        S3Location.parse(text)


def test_object_options_metadata_is_a_mapping() -> None:
    import pickle

    from s3flow.backend.wire import object_headers
    from s3flow.models import ObjectOptions

    one = ObjectOptions(metadata={"a": "1"})
    two = ObjectOptions(metadata={"ab": "1", "Owner": "ada"})
    assert dict(one.metadata) == {"a": "1"}
    assert object_headers(options=two) == {"x-amz-meta-ab": "1", "x-amz-meta-owner": "ada"}
    assert ObjectOptions(metadata=(("a", "1"),)) == one  # pairs still work
    assert hash(one) == hash(ObjectOptions(metadata={"a": "1"}))
    assert pickle.loads(pickle.dumps(two)) == two


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metadata": "ab"}, "metadata must be a mapping of str to str"),
        ({"metadata": {"a": 1}}, "must be str"),
        ({"metadata": {"a b": "1"}}, "metadata name 'a b' is not valid"),
        ({"metadata": {"a": "1", "A": "2"}}, "given twice"),
        ({"metadata": {"a": "x\ny"}}, "control character"),
        ({"metadata": {"a": "x" * 3000}}, "2 KB"),
        ({"acl": "publik"}, "'publik' is not a canned ACL; use one of private, public-read"),
        ({"storage_class": "COLD"}, "not a storage class"),
        ({"sse": "aes"}, "sse must be one of"),
        ({"sse_kms_key_id": "k"}, "needs sse='aws:kms'"),
        ({"tagging": {str(i): "v" for i in range(11)}}, "at most 10 tags"),
        ({"content_type": "a\r\nX-Evil: 1"}, "control character"),
    ],
)
def test_object_options_are_checked(kwargs: dict[str, object], message: str) -> None:
    from s3flow.errors import ConfigError
    from s3flow.models import ObjectOptions

    with pytest.raises(ConfigError, match=re.escape(message)):
        ObjectOptions(**kwargs)  # type: ignore[arg-type]
