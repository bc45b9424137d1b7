"""``s3flow run FILE``: many commands from a file (or ``-``, stdin), run concurrently, as
s5cmd's ``run``.

Each line is an s3flow command without the ``s3flow`` prefix, split like a shell
would (``shlex``: quotes, backslashes, ``#`` comments); blank lines are ignored.
Every line is parsed by the verb's own click command before anything runs, so a
typo stops the batch with one ``Error: FILE:LINE: …`` line per bad line and exit
code 2, and nothing was done. The parsed bodies then run on one event loop, with
one shared client, at most ``--concurrency-commands`` at a time. A failed line
prints ``Error: FILE:LINE: …`` and the others go on; the exit code is 1 when any
failed. Output lines of concurrent commands interleave whole, as with s5cmd.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

import click

from s3flow.cli.commands import Options, open_client, shared_client
from s3flow.cli.render import printable
from s3flow.cli.runtime import cli_message, collecting, options_of, run
from s3flow.errors import S3FlowError
from s3flow.scheduler import run_bounded

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

__all__ = ["run_file"]

# Not in a batch: a nested run, the demo, and cat (whose bytes would interleave).
_REFUSED = {
    "run": "run cannot be nested",
    "demo": "demo is not a batch command",
    "cat": "cat writes bytes to stdout; use cp s3://bucket/key FILE in a batch",
}


@dataclass(frozen=True, slots=True)
class Line:
    """One parsed command of the file: where it is, and its body to await."""

    where: str  # FILE:LINE
    body: Callable[[], Awaitable[None]]


class BadLine(Exception):
    """A line that is not a command s3flow can run."""


def _parse(ctx: click.Context, text: str) -> Callable[[], Awaitable[None]] | None:
    """The body of one line's command (None for a blank or comment line)."""
    try:
        args = shlex.split(text, comments=True)
    except ValueError as exc:  # an unclosed quote
        raise BadLine(f"cannot split the line: {exc}") from None
    if not args:
        return None
    verb, rest = args[0], args[1:]
    if verb in _REFUSED:
        raise BadLine(_REFUSED[verb])
    if "-" in rest:
        raise BadLine("- (stdin/stdout) cannot be used in a batch")
    group = ctx.find_root().command
    assert isinstance(group, click.Group)
    command = group.get_command(ctx, verb)
    if command is None:
        raise BadLine(f"no such command {verb!r}")
    return _collect(ctx, command, verb, rest)


def _collect(
    ctx: click.Context, command: click.Command, verb: str, rest: list[str]
) -> Callable[[], Awaitable[None]] | None:
    bodies: list[Callable[[], Awaitable[None]]] = []
    token = collecting.set(bodies)
    try:
        with command.make_context(verb, rest, parent=ctx) as sub:
            command.invoke(sub)
    except click.exceptions.Exit:  # --help: printed, nothing to run
        return None
    except click.ClickException as exc:
        raise BadLine(exc.format_message()) from None
    finally:
        collecting.reset(token)
    return bodies[0] if bodies else None


def _read(ctx: click.Context, source: TextIO, name: str) -> list[Line]:
    """Every line's body; bad lines are reported, one line each, and end the batch."""
    lines: list[Line] = []
    bad = 0
    for number, text in enumerate(source, start=1):
        where = f"{name}:{number}"
        try:
            body = _parse(ctx, text)
        except BadLine as exc:
            click.echo(printable(f"Error: {where}: {cli_message(str(exc))}"), err=True)
            bad += 1
            continue
        if body is not None:
            lines.append(Line(where, body))
    if bad:
        raise click.exceptions.Exit(2)
    return lines


async def _run_lines(options: Options, lines: list[Line], limit: int) -> None:
    async def one(line: Line) -> bool:
        try:
            await line.body()
        except S3FlowError as exc:
            reason = cli_message(str(exc))
        except click.exceptions.Exit as exc:
            if not exc.exit_code:
                return True
            reason = f"exit code {exc.exit_code}"
        except click.ClickException as exc:
            reason = exc.format_message()
        else:
            return True
        options.out.warn(f"Error: {line.where}: {reason}")
        return False

    options.out.show_bar = False  # concurrent commands cannot share one terminal's bar
    async with open_client(options) as s3:
        token = shared_client.set(s3)
        try:
            done = await run_bounded(lines, one, limit=limit)
        finally:
            shared_client.reset(token)
    failed = done.count(False)
    if failed:
        raise click.ClickException(f"{failed} of {len(lines)} commands failed")


@click.command("run")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option(
    "--concurrency-commands",
    type=click.IntRange(min=1),
    default=16,
    show_default=True,
    metavar="N",
    help="Commands in flight at once.",
)
@click.pass_context
def run_file(ctx: click.Context, file: TextIO, concurrency_commands: int) -> None:
    """Run the s3flow commands in FILE (- for stdin), one per line, concurrently.

    \b
    Lines are verbs without the `s3flow` prefix; # starts a comment:
      cp big.iso s3://backups/
      rm 's3://backups/old report.pdf'   # quoted as in a shell
      sync photos/ s3://backups/photos/
    Global options go before `run` and apply to every line. Every line is
    checked before any runs; exit code 2 names each bad line, 1 if a command failed.
    """
    options = options_of(ctx)
    name = "-" if file.name in ("<stdin>", "-") else file.name
    lines = _read(ctx, file, name)
    run(_run_lines, options, lines, concurrency_commands)
