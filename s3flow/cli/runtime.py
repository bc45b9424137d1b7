"""What every verb shares: running its async body, the global options, s3:// arguments.

``run`` is the one place where an ``S3FlowError`` becomes a one-line message
(``Error: s3://b/k: …``) and exit code 1; Ctrl-C becomes a cancellation (so
unfinished multipart uploads are aborted and partial downloads removed), the
verb's own ``interrupted`` line, and exit code 130.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import anyio
import click

from s3flow.cli.commands import Options
from s3flow.cli.render import CommandFailed, printable
from s3flow.errors import ConfigError, S3FlowError
from s3flow.models import S3Location

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

__all__ = ["JSON_KEY", "cli_message", "collecting", "json_mode", "location", "options_of", "run"]

JSON_KEY = "s3flow.json"  # ctx.meta: set by the group while parsing, read by every error path

# Set while ``s3flow run`` parses its lines: a verb's body is collected, not run.
collecting: ContextVar[list[Callable[[], Awaitable[None]]] | None] = ContextVar(
    "s3flow_collecting", default=None
)


# Library errors name the API's arguments; on the command line the flags are what to type.
_API_TO_FLAGS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"use force=True \(CLI: (?:rb )?--force\)"), "use rb --force"),
    (re.compile(r"force=True"), "--force"),
    (re.compile(r"needs order='(s3|path)'"), r"needs --listing-order \1"),
    (re.compile(r"order='(s3|path)'"), r"--listing-order \1"),
    (re.compile(r"\bfrom_list\b"), "--from-list"),
    (
        re.compile(r"sse_kms_key_id needs sse='aws:kms' \(or 'aws:kms:dsse'\)"),
        "--sse-kms-key-id needs --sse aws:kms",
    ),
)


def cli_message(text: str) -> str:
    """``text`` with API argument names replaced by the CLI flags that set them."""
    for pattern, flag in _API_TO_FLAGS:
        text = pattern.sub(flag, text)
    return text


def run(
    fn: Callable[..., Awaitable[None]], *args: object, interrupted: str = "interrupted"
) -> None:
    """Run one command on a fresh event loop; map its failures to messages and exit codes.

    ``interrupted``: what to say on Ctrl-C, true for this verb (what was cleaned up, what is
    left); by then the cancellation has run every cleanup. Inside ``s3flow run`` the body
    is collected instead, to run with the file's other lines on one event loop.
    """
    bodies = collecting.get()
    if bodies is not None:
        bodies.append(functools.partial(fn, *args))
        return
    try:
        anyio.run(fn, *args)
    except S3FlowError as exc:
        raise CommandFailed(cli_message(str(exc)), exc) from None  # exit 1
    except KeyboardInterrupt:
        if json_mode():
            record = {"error": interrupted, "type": "KeyboardInterrupt", "exit_code": 130}
            click.echo(json.dumps(record, separators=(",", ":")), err=True)
        else:
            click.echo(printable(interrupted), err=True)
        raise SystemExit(130) from None
    except BrokenPipeError:  # `s3flow cat … | head`: the reader left, nothing to report
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(141) from None


def json_mode() -> bool:
    """Whether this invocation asked for --json (before or after the verb)."""
    ctx = click.get_current_context(silent=True)
    return ctx is not None and bool(ctx.meta.get(JSON_KEY))


def options_of(ctx: click.Context) -> Options:
    """The group's resolved global options."""
    options = ctx.find_object(Options)
    if options is None:  # a verb invoked without the group (tests)
        raise click.UsageError("run verbs through the s3flow group")
    return options


def location(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """click callback: parse s3:// URLs (and tuples of them) early, so mistakes exit 2."""
    if value is None:
        return None
    try:
        if isinstance(value, tuple):
            return tuple(S3Location.parse(v) for v in value)
        return S3Location.parse(value)
    except ConfigError as exc:
        raise click.BadParameter(printable(str(exc)), ctx=ctx, param=param) from None
