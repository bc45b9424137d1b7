"""SSE-C flags, as aws s3 spells them: ``--sse-c AES256 --sse-c-key KEY`` (the key as
its 32 raw bytes, or ``fileb://PATH``) and, for the source of an S3 -> S3 copy,
``--sse-c-copy-source AES256 --sse-c-copy-source-key KEY``.

They set the command's connection (every GET, HEAD and upload part must carry the
key, so it is a setting of the client, not of one call). The key is checked before
any request and never printed: errors give its length only.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from s3flow.cli.commands import Options
from s3flow.config import SseCustomerKey

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["customer_key_options"]

_FLAGS = (
    click.option(
        "--sse-c",
        type=click.Choice(["AES256"]),
        help="Server-side encryption with a customer key (needs --sse-c-key).",
    ),
    click.option(
        "--sse-c-key",
        metavar="KEY",
        help="The 32-byte key for --sse-c, as its raw bytes or fileb://PATH.",
    ),
    click.option(
        "--sse-c-copy-source",
        type=click.Choice(["AES256"]),
        help="The S3 source of a copy is encrypted with a customer key.",
    ),
    click.option(
        "--sse-c-copy-source-key",
        metavar="KEY",
        help="The source's 32-byte key, as its raw bytes or fileb://PATH.",
    ),
)


def customer_key_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the SSE-C flags to a click command; its context's Options carry the keys."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        dest = _key(kwargs.pop("sse_c"), kwargs.pop("sse_c_key"), "--sse-c")
        source = _key(
            kwargs.pop("sse_c_copy_source"),
            kwargs.pop("sse_c_copy_source_key"),
            "--sse-c-copy-source",
        )
        if dest is not None or source is not None:
            ctx = click.get_current_context()
            options = ctx.find_object(Options)
            if options is not None:  # a verb invoked without the group fails later, named
                ctx.obj = dataclasses.replace(options, sse_c=dest, sse_c_source=source)
        return command(*args, **kwargs)

    for flag in reversed(_FLAGS):
        wrapper = flag(wrapper)
    return wrapper


def _key(algorithm: str | None, text: str | None, flag: str) -> SseCustomerKey | None:
    if algorithm is None and text is None:
        return None
    if algorithm is None or text is None:
        given, missing = (flag, f"{flag}-key") if text is None else (f"{flag}-key", flag)
        raise click.UsageError(f"{given} needs {missing} as well")
    raw = _read(text, flag) if text.startswith("fileb://") else text.encode("utf-8")
    if len(raw) != 32:
        raise click.BadParameter(
            f"the key must be 32 bytes (AES-256), got {len(raw)}; "
            "give its raw bytes, or fileb://PATH for a binary key",
            param_hint=f"'{flag}-key'",
        )
    return SseCustomerKey(raw, algorithm)


def _read(text: str, flag: str) -> bytes:
    path = Path(text.removeprefix("fileb://")).expanduser()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise click.BadParameter(
            f"cannot read {path}: {exc.strerror or exc}", param_hint=f"'{flag}-key'"
        ) from None
