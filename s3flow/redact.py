"""Keep secrets out of log output, whoever logs them.

botocore's DEBUG logs print request headers (security tokens, SSE-C keys,
signatures). A log-record factory rewrites records of the S3 stack's loggers
as they are created, so no handler, level or propagation path can see the
secret. It costs nothing unless DEBUG logging is on: loggers check the level
before building a record.
"""

from __future__ import annotations

import logging
import re
import threading

__all__ = ["install", "redact", "register_secret"]

MASK = "********"
_PATTERNS = [
    re.compile(r"(X-Amz-Signature=)[0-9a-fA-F]+"),
    re.compile(r"(X-Amz-Security-Token=)[^&\s'\"]+"),
    re.compile(r"(Signature=)[0-9a-fA-F]{16,}"),
    re.compile(r"(Signature:\s*)[0-9a-fA-F]{16,}"),  # botocore.auth logs each signature
    re.compile(
        r"((?:x-amz-security-token|x-amz-server-side-encryption-customer-key"
        r"(?:-md5)?|x-amz-copy-source-server-side-encryption-customer-key)['\"]?\s*[:=,]\s*"
        r"b?['\"]?)[^'\",}\s]+",
        re.IGNORECASE,
    ),
    re.compile(
        r"((?:aws_secret_access_key|secret_key|SecretAccessKey|SessionToken|"
        r"aws_session_token|token)['\"]?\s*[:=]\s*['\"]?)[^'\",)\s]+",
        re.IGNORECASE,
    ),
]
_STACK = (
    "botocore",
    "aiobotocore",
    "aioboto3",
    "boto3",
    "s3transfer",
    "s3flow",
    "urllib3",
    "aiohttp",
)
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def register_secret(value: str | None) -> None:
    """Mask this exact value wherever it appears in a log record."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Mask known secrets and signature/token fields in ``text``.

    >>> redact("GET /k?X-Amz-Signature=abc123 HTTP/1.1")
    'GET /k?X-Amz-Signature=******** HTTP/1.1'
    """
    for secret in _secrets:
        text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


def install() -> None:
    """Wrap the log-record factory once per process (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: object, **kwargs: object) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if record.name.startswith(_STACK):
                record.msg = redact(record.getMessage())
                record.args = None
                if record.exc_info and record.exc_info[1] is not None:
                    record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
                    record.exc_info = None
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
