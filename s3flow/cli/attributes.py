"""Object attribute flags (as aws s3 spells them) shared by cp, mv and sync.

The flags become one :class:`~s3flow.models.ObjectOptions`, checked before
any request: a bad value exits 2 naming the flag.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import click

from s3flow.cli.runtime import cli_message
from s3flow.errors import ConfigError
from s3flow.models import CANNED_ACLS, SSE_ALGORITHMS, STORAGE_CLASSES, ObjectOptions

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Attributes", "attribute_options"]

_FLAGS = (
    click.option(
        "--content-type", metavar="TYPE", help="Content-Type [default: from the file extension]."
    ),
    click.option(
        "--no-guess-mime-type",
        "no_guess",
        is_flag=True,
        help="Do not guess Content-Type from the file extension.",
    ),
    click.option(
        "--metadata",
        multiple=True,
        metavar="K=V[,K=V]",
        help='User metadata: owner=ada,team=x or JSON {"owner": "ada"}; repeatable.',
    ),
    click.option("--cache-control", metavar="TEXT", help="Cache-Control header."),
    click.option("--content-encoding", metavar="TEXT", help="Content-Encoding header."),
    click.option("--content-disposition", metavar="TEXT", help="Content-Disposition header."),
    click.option("--content-language", metavar="TEXT", help="Content-Language header."),
    click.option("--expires", metavar="ISO8601", help="Expires header, e.g. 2030-01-01T00:00:00Z."),
    click.option(
        "--storage-class",
        type=click.Choice(STORAGE_CLASSES),
        help="Storage class [default: the bucket's, usually STANDARD].",
    ),
    click.option("--acl", type=click.Choice(CANNED_ACLS), help="Canned ACL for the object."),
    click.option("--sse", type=click.Choice(SSE_ALGORITHMS), help="Server-side encryption."),
    click.option("--sse-kms-key-id", metavar="KEY", help="KMS key for --sse aws:kms."),
    click.option("--tagging", metavar="K=V&K=V", help="Object tags, URL-encoded: team=x&env=prod."),
)


class Attributes:
    """The parsed flags: ``options`` (None when none given) and whether to guess types."""

    def __init__(self, options: ObjectOptions | None, guess: bool) -> None:
        self.options, self.guess = options, guess

    @property
    def given(self) -> bool:
        return self.options is not None


def attribute_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the attribute flags to a click command; it receives ``attributes=Attributes``."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["attributes"] = _parse(kwargs)
        return command(*args, **kwargs)

    for flag in reversed(_FLAGS):
        wrapper = flag(wrapper)
    return wrapper


def _metadata(values: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for text in values:
        if text.lstrip().startswith("{"):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise click.BadParameter(f"not JSON: {exc}", param_hint="'--metadata'") from None
            if not isinstance(data, dict):
                raise click.BadParameter("give a JSON object", param_hint="'--metadata'")
            found |= {str(k): v for k, v in data.items()}
            continue
        for item in text.split(","):
            name, sep, value = item.partition("=")
            if not sep or not name:
                raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="'--metadata'")
            found[name.strip()] = value
    return found


def _expires(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO 8601 time, e.g. 2030-01-01T00:00:00Z",
            param_hint="'--expires'",
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _parse(kwargs: dict[str, Any]) -> Attributes:
    values = {
        "content_type": kwargs.pop("content_type"),
        "cache_control": kwargs.pop("cache_control"),
        "content_encoding": kwargs.pop("content_encoding"),
        "content_disposition": kwargs.pop("content_disposition"),
        "content_language": kwargs.pop("content_language"),
        "acl": kwargs.pop("acl"),
        "storage_class": kwargs.pop("storage_class"),
        "sse": kwargs.pop("sse"),
        "sse_kms_key_id": kwargs.pop("sse_kms_key_id"),
    }
    guess = not kwargs.pop("no_guess")
    metadata = _metadata(kwargs.pop("metadata"))
    expires = kwargs.pop("expires")
    tagging = kwargs.pop("tagging")
    given: dict[str, Any] = {k: v for k, v in values.items() if v is not None}
    if metadata:
        given["metadata"] = metadata
    if expires is not None:
        given["expires"] = _expires(expires)
    if tagging is not None:
        pairs = parse_qsl(tagging, keep_blank_values=True, strict_parsing=False)
        if not pairs:
            raise click.BadParameter(f"{tagging!r} has no K=V pair", param_hint="'--tagging'")
        given["tagging"] = dict(pairs)
    if not given:
        return Attributes(None, guess)
    try:
        return Attributes(ObjectOptions(**given), guess)
    except ConfigError as exc:
        raise click.BadParameter(cli_message(str(exc))) from None
