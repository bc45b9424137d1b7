"""The S3 REST wire format for the fast path (:mod:`s3flow.backend.fast`): pure functions.

Request headers and XML bodies out; response headers, XML bodies and error
answers in. :func:`error_for_response` is the fast path's one mapping from an
HTTP answer to an :class:`~s3flow.errors.S3FlowError`, with the same codes,
classes and one-line hints as ``aws.translate_errors``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote_plus, urlencode
from xml.sax.saxutils import escape

from s3flow.backend.answers import hint
from s3flow.backend.protocol import ListPage
from s3flow.backend.sizes import reply_int
from s3flow.errors import RetryableError, S3FlowError, ServiceError, error_for_code
from s3flow.models import Bucket, Checksum, ObjectInfo

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from s3flow.models import CompletedPart, ObjectOptions

__all__ = [
    "complete_body",
    "completed_info",
    "error_for_response",
    "head_info",
    "continuation",
    "list_page",
    "listed_size",
    "object_headers",
    "parse_xml",
    "range_problem",
    "response_checksum",
    "result_fields",
]

_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
_TAGS = {"crc32c": "ChecksumCRC32C", "crc32": "ChecksumCRC32"}
_META = "x-amz-meta-"
_DECIMAL = re.compile(r"[0-9]{1,19}")


def object_headers(
    checksum: Checksum | None = None, options: ObjectOptions | None = None
) -> dict[str, str]:
    """Headers for a checksum and write options; ``None`` values never appear."""
    headers: dict[str, str] = {}
    if checksum is not None:
        name = (
            "content-md5" if checksum.algorithm == "md5" else f"x-amz-checksum-{checksum.algorithm}"
        )
        headers[name] = checksum.value
    if options is not None:
        headers |= option_headers(options)
    return headers


def option_headers(options: ObjectOptions) -> dict[str, str]:
    """The request headers that carry ``options`` (PutObject, CreateMultipartUpload, CopyObject)."""
    headers = {
        name: value
        for name, value in (
            ("content-type", options.content_type),
            ("cache-control", options.cache_control),
            ("content-encoding", options.content_encoding),
            ("content-disposition", options.content_disposition),
            ("content-language", options.content_language),
            ("x-amz-acl", options.acl),
            ("x-amz-storage-class", options.storage_class),
            ("x-amz-server-side-encryption", options.sse),
            ("x-amz-server-side-encryption-aws-kms-key-id", options.sse_kms_key_id),
        )
        if value
    }
    if options.expires is not None:
        headers["expires"] = format_datetime(options.expires.astimezone(UTC), usegmt=True)
    if options.tagging:
        headers["x-amz-tagging"] = urlencode(list(options.tagging.items()), quote_via=quote)
    for name, value in options.metadata.items():
        headers[_META + name.lower()] = value
    return headers


def response_checksum(headers: Mapping[str, str]) -> Checksum | None:
    for algorithm in _TAGS:
        if value := headers.get(f"x-amz-checksum-{algorithm}"):
            return Checksum(algorithm, value)
    return None


def range_problem(status: int, headers: Mapping[str, str], start: int, end: int) -> str | None:
    """Why a GET answer is not exactly bytes ``[start, end)``, or ``None`` when it is.

    >>> range_problem(206, {"content-range": "bytes 0-9/99", "content-length": "10"}, 0, 10)
    >>> range_problem(206, {"content-range": "bytes 0-4/5", "content-length": "5"}, 0, 10)
    'asked for bytes 0-9, got 206 bytes 0-4/5 with 5 bytes'
    """
    text = headers.get("content-length", "")
    length = int(text) if _DECIMAL.fullmatch(text) else -1
    got = headers.get("content-range", "")
    whole = status == 200 and start == 0  # a server may answer a full-object range with 200
    if length == end - start and (whole or got.startswith(f"bytes {start}-{end - 1}/")):
        return None
    said = f"{length} bytes" if length >= 0 else f"Content-Length {text[:40]!r}"
    return f"asked for bytes {start}-{end - 1}, got {status} {got[:80] or 'no range'} with {said}"


def _date(value: str | None) -> datetime | None:
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


def head_info(
    key: str, headers: Mapping[str, str], *, whole_size: bool = False, bucket: str | None = None
) -> ObjectInfo:
    """An ObjectInfo from HEAD or GET response headers (``headers`` is case-insensitive).

    ``size`` is the Content-Length (a HEAD with partNumber: that part's), or
    with ``whole_size`` the object's, from a ranged answer's Content-Range.
    A size or part count that is not a plain number is a one-line ServiceError
    naming ``s3://bucket/key``.

    >>> head_info("k", {"content-range": "bytes 0-9/99", "content-length": "10"}).size
    10
    >>> head_info("k", {"content-range": "bytes 0-9/99"}, whole_size=True).size
    99
    """
    total = headers.get("content-range", "").rpartition("/")[2] if whole_size else ""
    if total and total != "*":  # "*": the server did not say; the Content-Length then
        size = reply_int(total, "Content-Range total", bucket=bucket, key=key)
    else:
        length = headers.get("content-length", "0")
        size = reply_int(length, "Content-Length", bucket=bucket, key=key)
    checksum = response_checksum(headers)
    parts = headers.get("x-amz-mp-parts-count")
    metadata = sorted(
        (name[len(_META) :], value)  # case kept as sent, like botocore
        for name, value in headers.items()
        if name.lower().startswith(_META)
    )
    return ObjectInfo(
        key=key,
        size=size,
        etag=headers.get("etag", "").strip('"'),
        last_modified=_date(headers.get("last-modified")),
        storage_class=headers.get("x-amz-storage-class"),
        checksum=str(checksum) if checksum else None,
        parts=reply_int(parts, "x-amz-mp-parts-count", bucket=bucket, key=key) if parts else None,
        version_id=headers.get("x-amz-version-id"),
        metadata=tuple(metadata),
        content_type=headers.get("content-type"),
        cache_control=headers.get("cache-control"),
        content_encoding=headers.get("content-encoding"),
        content_disposition=headers.get("content-disposition"),
        expires=headers.get("expires"),
        sse=headers.get("x-amz-server-side-encryption"),
        sse_kms_key_id=headers.get("x-amz-server-side-encryption-aws-kms-key-id"),
    )


Records = list[tuple[str, dict[str, str]]]
"""Each non-leaf child of an XML answer's root: its name and its leaf fields."""


def parse_xml(body: bytes) -> tuple[str, dict[str, str], Records]:
    """Root name, the root's leaf children as text, and each non-leaf child's leaves.

    Namespaces are dropped. Raises ``ET.ParseError`` on a malformed body.
    """
    root = ET.fromstring(body)
    leaves: dict[str, str] = {}
    records: list[tuple[str, dict[str, str]]] = []
    for child in root:
        name = child.tag.rpartition("}")[2]
        if len(child):
            records.append((name, {c.tag.rpartition("}")[2]: c.text or "" for c in child}))
        else:
            leaves[name] = child.text or ""
    return root.tag.rpartition("}")[2], leaves, records


def error_for_response(
    status: int, reason: str | None, body: bytes, bucket: str | None, key: str | None
) -> S3FlowError:
    """The S3FlowError for an error answer: ``<Code>`` from the body, else the status.

    A body-less answer (HEAD) gets code ``"404"``/``"403"``/``"412"``/``"503"``…,
    exactly what botocore reports, so both paths raise the same class.
    """
    code = message = ""
    if body:
        try:
            _, fields, _ = parse_xml(body)
        except ET.ParseError:
            fields = {}
        code, message = fields.get("Code", ""), fields.get("Message", "")
    code = code or str(status)
    cls = error_for_code(code, status)
    text = " ".join((message or reason or code).split())
    return cls(hint(cls, text), bucket=bucket, key=key, code=code)


def result_fields(body: bytes, status: int, bucket: str, key: str | None) -> dict[str, str]:
    """Leaf fields of a 2xx XML answer; a 200 carrying ``<Error>`` raises it."""
    return _result(body, status, bucket, key)[0]


def _result(
    body: bytes, status: int, bucket: str, key: str | None
) -> tuple[dict[str, str], Records]:
    """Fields and records of a 2xx XML answer; a 200 carrying ``<Error>`` raises it."""
    try:
        root, fields, records = parse_xml(body)
    except ET.ParseError:
        raise RetryableError(
            f"malformed XML answer ({len(body)} bytes)", bucket=bucket, key=key
        ) from None
    if root == "Error":
        raise error_for_response(status, None, body, bucket, key)
    return fields, records


def list_page(body: bytes, status: int, bucket: str) -> ListPage:
    """A ListObjectsV2 answer, keys decoded when the server url-encoded them (as botocore does).

    >>> xml = (b"<ListBucketResult><IsTruncated>false</IsTruncated><EncodingType>url</EncodingType>"
    ...        b"<Contents><Key>a+b%25</Key><Size>3</Size><ETag>&quot;e&quot;</ETag></Contents>"
    ...        b"<CommonPrefixes><Prefix>d%2F</Prefix></CommonPrefixes></ListBucketResult>")
    >>> page = list_page(xml, 200, "b")
    >>> page.objects[0].key, page.objects[0].size, page.objects[0].etag, page.prefixes
    ('a b%', 3, 'e', ('d/',))
    """
    fields, records = _result(body, status, bucket, None)
    if "Contents" in fields or "CommonPrefixes" in fields:  # an empty element: no Key
        raise ServiceError("malformed listing answer: an entry without a key", bucket=bucket)
    decode = unquote_plus if fields.get("EncodingType") == "url" else str
    objects = tuple(
        ObjectInfo(
            key=decode(_required(r, "Key", bucket)),
            size=listed_size(r.get("Size"), bucket, r.get("Key")),
            etag=r.get("ETag", "").strip('"'),
            last_modified=_iso(r.get("LastModified")),
            storage_class=r.get("StorageClass"),
        )
        for name, r in records
        if name == "Contents"
    )
    prefixes = tuple(
        decode(_required(r, "Prefix", bucket)) for name, r in records if name == "CommonPrefixes"
    )
    return ListPage(objects=objects, prefixes=prefixes, next_token=_next_token(fields, bucket))


def _next_token(fields: Mapping[str, str], bucket: str) -> str | None:
    truncated = fields.get("IsTruncated", "false")
    if truncated not in ("true", "false"):
        raise ServiceError(
            f"malformed listing answer: IsTruncated is {truncated[:40]!r}; "
            "the listing cannot be trusted",
            bucket=bucket,
        )
    token = fields.get("NextContinuationToken") if truncated == "true" else None
    return continuation(truncated == "true", token, bucket)


def continuation(truncated: bool, token: str | None, bucket: str) -> str | None:
    """The next page's token; a truncated page without one is an error, not the end.

    Taking it as the end would make a partial listing look whole (and ``sync
    --delete`` act on it).

    >>> continuation(False, None, "b") is None, continuation(True, "t", "b")
    (True, 't')
    """
    if not truncated:
        return None
    if not token:
        raise ServiceError(
            "malformed listing answer: the page is truncated but carries no continuation "
            "token, so the rest cannot be listed; nothing was changed on its account",
            bucket=bucket,
        )
    return token


def listed_size(text: str | int | None, bucket: str, key: str | None) -> int:
    """A listing's ``<Size>`` (botocore gives it parsed, our parser as text).

    >>> listed_size("12", "b", "k"), listed_size(None, "b", "k")
    (12, 0)
    """
    if text is None or isinstance(text, int):
        return text or 0
    return reply_int(text, "listing <Size>", bucket=bucket, key=key)


def _required(record: Mapping[str, str], name: str, bucket: str) -> str:
    value = record.get(name)
    if value is None:
        raise ServiceError(f"malformed listing answer: an entry without <{name}>", bucket=bucket)
    return value


def bucket_list(body: bytes, status: int) -> list[Bucket]:
    """A ListBuckets answer.

    >>> xml = (b'<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    ...        b"<Owner><ID>o</ID></Owner><Buckets><Bucket><Name>a</Name>"
    ...        b"<CreationDate>2026-11-29T01:02:03.000Z</CreationDate></Bucket></Buckets>"
    ...        b"</ListAllMyBucketsResult>")
    >>> [(b.name, b.created.isoformat()) for b in bucket_list(xml, 200)]
    [('a', '2026-11-29T01:02:03+00:00')]
    """
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise RetryableError(f"malformed XML answer ({len(body)} bytes)") from None
    if root.tag.rpartition("}")[2] == "Error":
        raise error_for_response(status, None, body, None, None)
    buckets: list[Bucket] = []
    for element in root.iter():
        if element.tag.rpartition("}")[2] == "Bucket":
            fields = {c.tag.rpartition("}")[2]: c.text or "" for c in element}
            buckets.append(Bucket(fields.get("Name", ""), _iso(fields.get("CreationDate"))))
    return buckets


def _iso(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def completed_info(
    key: str, fields: Mapping[str, str], parts: Sequence[CompletedPart]
) -> ObjectInfo:
    """The ObjectInfo of a CompleteMultipartUpload result."""
    found = next((Checksum(a, fields[tag]) for a, tag in _TAGS.items() if fields.get(tag)), None)
    return ObjectInfo(
        key=key,
        size=sum(p.size for p in parts),
        etag=fields.get("ETag", "").strip('"'),
        checksum=str(found) if found else None,
        parts=len(parts),
    )


def complete_body(parts: Sequence[CompletedPart]) -> bytes:
    items = []
    for part in parts:
        extra = ""
        if part.checksum is not None and part.checksum.algorithm in _TAGS:
            tag = _TAGS[part.checksum.algorithm]
            extra = f"<{tag}>{escape(part.checksum.value)}</{tag}>"
        items.append(
            f"<Part><PartNumber>{part.number}</PartNumber>"
            f"<ETag>&quot;{escape(part.etag)}&quot;</ETag>{extra}</Part>"
        )
    return f'<CompleteMultipartUpload xmlns="{_XMLNS}">{"".join(items)}</CompleteMultipartUpload>'.encode()
