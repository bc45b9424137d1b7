from __future__ import annotations

import inspect
import pickle

import pytest

import s3flow.errors as errors
from s3flow.backend.credentials import Credentials
from s3flow.errors import (
    BucketNotFound,
    LocalFileError,
    ObjectNotFound,
    S3FlowError,
    TransferFailed,
    error_for_code,
)

ALL = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, S3FlowError)]


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("NoSuchBucket", "BucketNotFound"),
        ("NoSuchKey", "ObjectNotFound"),
        ("404", "ObjectNotFound"),
        ("AccessDenied", "AccessDenied"),
        ("BucketNotEmpty", "BucketNotEmpty"),
        ("SlowDown", "SlowDown"),
        ("InternalError", "RetryableError"),
        ("SignatureDoesNotMatch", "CredentialsError"),
        ("InvalidAccessKeyId", "CredentialsError"),
        ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"),
        ("NoSuchUpload", "UploadNotFound"),
        ("BadDigest", "CorruptedInTransit"),
        ("Weird", "ServiceError"),
    ],
)
def test_code_table(code: str, cls: str) -> None:
    assert error_for_code(code).__name__ == cls


def test_unknown_5xx_is_retryable() -> None:
    assert error_for_code("Whatever", 502) is errors.RetryableError


def test_one_line_with_location() -> None:
    assert str(ObjectNotFound("not\nfound", bucket="b", key="k/x")) == "s3://b/k/x: not found"
    assert str(BucketNotFound("gone", bucket="b")) == "s3://b: gone"
    assert str(LocalFileError("no such file", path="/tmp/x")) == "/tmp/x: no such file"


@pytest.mark.parametrize("cls", ALL)
def test_every_error_pickles(cls: type[S3FlowError]) -> None:
    if cls is LocalFileError:
        error: S3FlowError = cls("boom", path="/p")
    elif cls is TransferFailed:
        error = cls("boom", bucket="b", key="k", part_number=3, attempts=5)
    else:
        error = cls("boom", bucket="b", key="k")
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is cls and str(clone) == str(error)
    assert clone.__dict__ == error.__dict__


def test_credentials_repr_hides_secrets() -> None:
    creds = Credentials("AKIAEXAMPLEKEY12", "very-secret-value", "session-token-value")
    text = repr(creds) + str(creds)
    assert "very-secret-value" not in text and "session-token-value" not in text
    assert "AKIAEXAMPLEKEY12" not in text


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("NoSuchBucket", "bucket does not exist; create it with `s3flow mb`"),
        ("NoSuchKey", "object not found; check the key with `s3flow ls`"),
        ("BucketNotEmpty", "bucket is not empty; use force=True"),
        ("BucketAlreadyExists", "bucket already exists; choose another name"),
        ("InvalidBucketName", "invalid bucket name; use 3-63 lowercase"),
        ("AccessDenied", "access denied (the words); check the credentials' permissions"),
        ("SignatureDoesNotMatch", "the server refused the credentials (the words); check the keys"),
        ("SlowDown", "the words"),
    ],
)
def test_an_error_answer_says_what_to_do(code: str, says: str) -> None:
    from s3flow.backend.wire import error_for_response

    body = f"<Error><Code>{code}</Code><Message>the words</Message></Error>".encode()
    error = error_for_response(400, "Bad Request", body, "b", "k")
    assert error.message.startswith(says)
