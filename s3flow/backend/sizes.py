"""Numbers in S3's answers, read strictly, for both backends (no botocore here).

A size or count the server sends is trusted to size files and plan ranges, so
anything but plain ASCII digits is refused with a one-line error naming the
object: ``int()`` alone takes ``" 12"``, ``"1_2"`` and digits of other scripts
(``"١٢"``), and ``str.isdigit`` also says yes to ``"²"``, which ``int()`` then refuses.
"""

from __future__ import annotations

import re

from s3flow.errors import ServiceError

__all__ = ["MALFORMED", "malformed", "reply_int"]

MALFORMED = "MalformedReply"  # the error code of every such refusal
_DECIMAL = re.compile(r"[0-9]{1,19}")  # 19 digits: every size up to 2**63 - 1


def malformed(what: str, *, bucket: str | None, key: str | None) -> ServiceError:
    """The error for an answer s3flow cannot read; ``what`` says which part of it."""
    return ServiceError(
        f"malformed reply from the server (or a proxy on the way): {what}",
        bucket=bucket,
        key=key,
        code=MALFORMED,
    )


def reply_int(value: str, what: str, *, bucket: str | None, key: str | None) -> int:
    """``value`` as a non-negative integer, or a one-line ServiceError.

    >>> reply_int("1024", "Content-Length", bucket="b", key="k")
    1024
    >>> reply_int("12abc", "Content-Length", bucket="b", key="k")
    Traceback (most recent call last):
    ...
    s3flow.errors.ServiceError: s3://b/k: malformed reply from the server (or a proxy on the way): Content-Length '12abc' is not a number
    """
    if _DECIMAL.fullmatch(value) is None:
        raise malformed(f"{what} {value[:40]!r} is not a number", bucket=bucket, key=key)
    return int(value)
