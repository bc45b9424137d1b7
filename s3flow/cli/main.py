"""The ``s3flow`` console script: a click group whose verbs are thin calls into commands.

Errors become one line and an exit code in ``runtime.run`` (1 for an
``S3FlowError``, 130 for Ctrl-C); bad arguments exit with code 2. The bulk
verbs (``sync``, ``uploads``) are defined in their own modules and added here.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import re
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from s3flow.cli import commands, info
from s3flow.cli.attributes import attribute_options
from s3flow.cli.batch import run_file
from s3flow.cli.commands import Options, RawLocation, is_pattern
from s3flow.cli.copying import CopyRequest, copy, interrupted, plan
from s3flow.cli.customer_keys import customer_key_options
from s3flow.cli.render import JsonError, Reporter, SafeFormatter, printable
from s3flow.cli.runtime import JSON_KEY, location, options_of, run
from s3flow.cli.sync import RuleOrder, rule_filters, sync
from s3flow.cli.uploads import uploads
from s3flow.config import TransferConfig
from s3flow.errors import ConfigError
from s3flow.models import S3Location

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["main"]

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)
_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}
_STDOUT_CUT = "interrupted; the output on stdout is incomplete"


def parse_size(text: str) -> int:
    """``"8MiB"`` → 8388608. Units are binary (8M = 8MB = 8MiB); a bare number is bytes."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a size; write e.g. 8MiB or 16M")
    number, unit, _ = match.groups()
    return int(float(number) * 1024 ** _POWERS[unit.lower()])


def _transfer_config(
    concurrency: int | None, part_size: str | None, fsync: bool = False
) -> TransferConfig:
    config = TransferConfig(fsync=fsync)
    changes: dict[str, int] = {}
    if concurrency is not None:
        changes["max_concurrency"] = concurrency
    if part_size is not None:
        try:
            size = parse_size(part_size)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'--part-size'") from None
        changes |= {
            "part_size": size,
            "multipart_threshold": size,
            "memory_limit": max(config.memory_limit, 2 * size),
        }
    try:
        return dataclasses.replace(config, **changes)  # type: ignore[arg-type]
    except ConfigError as exc:
        hint = "'--part-size'" if "part_size" in str(exc) else "'--concurrency'"
        raise click.BadParameter(str(exc), param_hint=hint) from None


_GLOBAL_FLAGS = frozenset(
    {
        "--json",
        "-q",
        "--quiet",
        "--only-show-errors",
        "--no-progress",
        "--debug",
        "--no-verify-ssl",
        "--fsync",
    }
)
_GLOBAL_VALUED = frozenset(
    {"--endpoint-url", "--profile", "--region", "--concurrency", "--part-size", "--ca-bundle"}
)


class _Group(click.Group):
    """Global options are accepted after the verb too (``cp a s3://b/ --json``), as aws
    and s5cmd users type them: they are moved in front of the verb before parsing.

    Under --json every error that ends the command (bad arguments included) is one
    JSON object on stderr, as s5cmd prints them (see :class:`JsonError`)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        args = hoist_globals(args, set(self.commands))
        front = list(itertools.takewhile(lambda arg: arg not in self.commands, args))
        ctx.meta[JSON_KEY] = "--json" in front
        ctx.meta[_VERB_KEY] = args[len(front)] if len(front) < len(args) else None
        with _json_errors(ctx):
            return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        with _json_errors(ctx):
            return super().invoke(ctx)


_VERB_KEY = "s3flow.verb"


@contextmanager
def _json_errors(ctx: click.Context) -> Iterator[None]:
    try:
        yield
    except click.ClickException as exc:
        if not ctx.meta.get(JSON_KEY) or isinstance(exc, JsonError):
            raise
        raise JsonError(exc, ctx.meta.get(_VERB_KEY)) from None


def hoist_globals(args: list[str], verbs: set[str]) -> list[str]:
    """``["cp", "a", "b", "--json"]`` -> ``["--json", "cp", "a", "b"]``; stops at ``--``.

    >>> hoist_globals(["cp", "a", "--region", "eu", "b"], {"cp"})
    ['--region', 'eu', 'cp', 'a', 'b']
    """
    at = next((i for i, arg in enumerate(args) if arg in verbs), None)
    if at is None:
        return args
    moved, rest = _split_globals(iter(args[at:]))
    return [*args[:at], *moved, *rest]


def _split_globals(tail: Iterator[str]) -> tuple[list[str], list[str]]:
    """The global options in ``tail`` (with their values), and everything else in order."""
    moved: list[str] = []
    rest: list[str] = []
    for arg in tail:
        if arg == "--":
            return moved, [*rest, arg, *tail]
        if arg in _GLOBAL_VALUED:
            moved += [arg, next(tail, "")]
        elif arg in _GLOBAL_FLAGS or arg.split("=", 1)[0] in _GLOBAL_VALUED:
            moved.append(arg)  # a flag, or --region=eu
        else:
            rest.append(arg)
    return moved, rest


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--endpoint-url",
    metavar="URL",
    help="S3 endpoint (default: $S3FLOW_ENDPOINT_URL, $AWS_ENDPOINT_URL, or AWS).",
)
@click.option("--profile", help="AWS profile from ~/.aws/credentials or ~/.aws/config.")
@click.option("--region", help="Region for requests and for new buckets.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output: JSON lines.")
@click.option("-q", "--quiet", is_flag=True, help="Print only data and errors.")
@click.option(
    "--only-show-errors",
    is_flag=True,
    help="Print only errors and warnings, no per-object lines or summary (as --quiet).",
)
@click.option(
    "--no-progress", is_flag=True, help="No progress bar; every other line is printed as usual."
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    metavar="N",
    help="Parts (or ranges) in flight per file [default: 10].",
)
@click.option("--part-size", metavar="SIZE", help="Multipart part size, e.g. 8MiB or 64M.")
@click.option(
    "--ca-bundle",
    metavar="FILE",
    help="PEM file of CAs to trust for TLS (default: $AWS_CA_BUNDLE, the profile's ca_bundle).",
)
@click.option("--no-verify-ssl", is_flag=True, help="Do not verify TLS certificates (unsafe).")
@click.option(
    "--fsync",
    is_flag=True,
    help="Make downloaded files durable before the command ends: each file is fsynced "
    "before its rename, or in cp -r and sync one syncfs per 4,096 files "
    "[default: atomic rename only, as aws s3 and s5cmd].",
)
@click.option("--debug", is_flag=True, help="Log every request at DEBUG level to stderr.")
@click.version_option(package_name="s3flow")
@click.pass_context
def main(
    ctx: click.Context,
    endpoint_url: str | None,
    profile: str | None,
    region: str | None,
    as_json: bool,
    quiet: bool,
    only_show_errors: bool,
    no_progress: bool,
    concurrency: int | None,
    part_size: str | None,
    ca_bundle: str | None,
    no_verify_ssl: bool,
    fsync: bool,
    debug: bool,
) -> None:
    """s3flow: fast, resumable S3 transfers.

    \b
    Examples:
      s3flow ls s3://backups/2024/
      s3flow cp big.iso s3://backups/
      s3flow cp --recursive photos/ s3://backups/photos/
      s3flow sync --delete photos/ s3://backups/photos/
      tar c dir | s3flow cp - s3://backups/dir.tar
    """
    if debug:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(SafeFormatter("%(asctime)s %(name)s %(message)s"))
        logging.basicConfig(level=logging.DEBUG, handlers=[handler])
    reporter = Reporter(as_json=as_json, quiet=quiet or only_show_errors, bar=not no_progress)
    if no_verify_ssl:
        reporter.warn("warning: TLS certificate verification is off (--no-verify-ssl)")
    ctx.obj = Options(
        endpoint_url=endpoint_url,
        profile=profile,
        region=region,
        verify_tls=not no_verify_ssl,
        ca_bundle=ca_bundle,
        config=_transfer_config(concurrency, part_size, fsync),
        out=reporter,
    )


_raw = click.option(
    "--raw", is_flag=True, help="Take * and ? in s3:// keys literally, not as wildcards (s5cmd)."
)


@main.command()
@click.argument("url", required=False, callback=location)
@click.option("-r", "--recursive", is_flag=True, help="List every key under the prefix.")
@click.option("-H", "--human-readable", "human", is_flag=True, help="Sizes as 1.5 KiB, 3 MiB.")
@click.option("--summarize", is_flag=True, help="End with the object count and total size.")
@_raw
@click.pass_context
def ls(
    ctx: click.Context,
    url: S3Location | None,
    recursive: bool,
    human: bool,
    summarize: bool,
    raw: bool,
) -> None:
    """List buckets, or the objects and prefixes under s3://bucket[/prefix].

    A key with * or ? is a pattern (s5cmd): every matching key, at any depth
    (with --raw, a literal prefix).
    """
    if raw and url is not None:
        url = RawLocation(url.bucket, url.key)
    run(commands.ls, options_of(ctx), url, recursive, human, summarize)


@main.command("head")
@click.argument("url", callback=location)
@customer_key_options
@click.pass_context
def head(ctx: click.Context, url: S3Location) -> None:
    """Show one object's attributes (size, ETag, type, metadata, …); --json for JSON."""
    run(info.head, options_of(ctx), _key_required(url))


main.add_command(head, "stat")


@main.command(context_settings={"help_option_names": ["--help"]})  # -h is --human-readable
@click.argument("url", callback=location)
@click.option(
    "-h", "-H", "--human-readable", "--humanize", "human", is_flag=True, help="Size as 1.5 KiB."
)
@click.pass_context
def du(ctx: click.Context, url: S3Location, human: bool) -> None:
    """Count the objects and bytes under s3://bucket[/prefix] (every depth)."""
    run(info.du, options_of(ctx), url, human)


@main.command()
@click.argument("url", callback=location)
@click.pass_context
def mb(ctx: click.Context, url: S3Location) -> None:
    """Make a bucket: s3flow mb s3://bucket."""
    run(commands.mb, options_of(ctx), _bucket_only(url))


@main.command()
@click.argument("url", callback=location)
@click.option(
    "--force", is_flag=True, help="Delete every object, version and pending upload first."
)
@click.pass_context
def rb(ctx: click.Context, url: S3Location, force: bool) -> None:
    """Remove a bucket; it must be empty unless --force."""
    emptied = "interrupted; the bucket may be partly emptied" if force else "interrupted"
    run(commands.rb, options_of(ctx), _bucket_only(url), force, interrupted=emptied)


_FILTER_FLAGS = (
    click.option(
        "--exclude", multiple=True, metavar="GLOB", help="With -r: skip keys matching GLOB."
    ),
    click.option(
        "--include",
        multiple=True,
        metavar="GLOB",
        help="With -r: keep keys matching GLOB (last rule wins).",
    ),
    click.option(
        "--dry-run",
        "--dryrun",
        "dry_run",
        is_flag=True,
        help="Print what would be done; change nothing.",
    ),
)

_follow_symlinks = click.option(
    "--follow-symlinks/--no-follow-symlinks",
    default=True,
    help="With -r from a local directory: follow symbolic links [default: follow].",
)


def _filter_flags(command: Callable[..., Any]) -> Callable[..., Any]:
    for flag in reversed(_FILTER_FLAGS):
        command = flag(command)
    return command


def _transfer_flags(
    what: str, no_clobber: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The arguments and options cp and mv share; ``what`` and ``no_clobber`` word the help."""

    def apply(command: Callable[..., Any]) -> Callable[..., Any]:
        for flag in reversed(
            (
                click.argument("src"),
                click.argument("dst"),
                click.option(
                    "-r", "--recursive", is_flag=True, help=f"{what} a directory or a whole prefix."
                ),
                click.option("-n", "--no-clobber", is_flag=True, help=no_clobber),
                click.option(
                    "--concurrency-objects",
                    type=click.IntRange(min=1),
                    metavar="N",
                    help="With --recursive: objects in flight at once [default: 32].",
                ),
                _filter_flags,
                _follow_symlinks,
                _raw,
                attribute_options,
                customer_key_options,
                click.pass_context,
            )
        ):
            command = flag(command)
        return command

    return apply


def _transfer_plan(
    ctx: click.Context, src: str, dst: str, flags: dict[str, Any], *, move: bool
) -> CopyRequest:
    return plan(
        src,
        dst,
        recursive=flags["recursive"],
        no_clobber=flags["no_clobber"],
        objects=flags["concurrency_objects"],
        attributes=flags["attributes"],
        rules=rule_filters(ctx, flags["exclude"], flags["include"]),
        dry_run=flags["dry_run"],
        move=move,
        follow_symlinks=flags["follow_symlinks"],
        raw=flags["raw"],
    )


@main.command(cls=RuleOrder)
@_transfer_flags("Copy", "Skip destinations that already exist.")
def cp(ctx: click.Context, src: str, dst: str, **flags: Any) -> None:
    """Copy between local paths and s3:// URLs; - is stdin or stdout.

    A DST ending in / (or an existing local directory) receives the source
    under its own name. Uploads resume: re-running a killed cp continues it.
    --recursive copies every object under SRC, many at once; `s3flow sync`
    does the same but skips unchanged objects and can resume a killed job.
    """
    request = _transfer_plan(ctx, src, dst, flags, move=False)
    run(copy, options_of(ctx), request, interrupted=interrupted(request))


@main.command(cls=RuleOrder)
@_transfer_flags("Move", "Skip (and keep) sources whose destination exists.")
def mv(ctx: click.Context, src: str, dst: str, **flags: Any) -> None:
    """Move: copy like cp, then remove each source once its copy is complete.

    Local -> S3, S3 -> local and S3 -> S3, one object or --recursive. A source
    whose copy failed (or was skipped by --no-clobber) is kept.
    """
    run(copy, options_of(ctx), _transfer_plan(ctx, src, dst, flags, move=True))


@main.command(cls=RuleOrder)
@click.argument("url", callback=location)
@click.option("-r", "--recursive", is_flag=True, help="Delete every key under the prefix.")
@_filter_flags
@_raw
@click.pass_context
def rm(
    ctx: click.Context,
    url: S3Location,
    recursive: bool,
    exclude: tuple[str, ...],
    include: tuple[str, ...],
    dry_run: bool,
    raw: bool,
) -> None:
    """Delete an object, or with --recursive every object under s3://bucket/dir/.

    s3://b/tmp with --recursive means the directory tmp/ (never tmp.log); a key
    with * or ? deletes the objects matching it (s5cmd; with --raw, the key itself).
    """
    if raw:
        url = RawLocation(url.bucket, url.key)
    if not recursive and not url.key:
        raise click.BadParameter("give s3://bucket/key, or use --recursive", param_hint="URL")
    rules = rule_filters(ctx, exclude, include)
    if rules and not recursive and not is_pattern(url):
        raise click.UsageError("--include/--exclude need --recursive (or a wildcard)")
    some = "interrupted; some of the keys may already be deleted"
    run(
        commands.rm,
        options_of(ctx),
        url,
        recursive,
        rules,
        dry_run,
        interrupted=some if recursive or is_pattern(url) else "interrupted",
    )


@main.command()
@click.argument("url", callback=location)
@customer_key_options
@click.pass_context
def cat(ctx: click.Context, url: S3Location) -> None:
    """Write an object to stdout."""
    run(commands.cat, options_of(ctx), _key_required(url), interrupted=_STDOUT_CUT)


@main.command()
@click.argument("url", callback=location)
@click.option(
    "--expires-in",
    type=click.IntRange(1, 7 * 24 * 3600),
    default=3600,
    show_default=True,
    help="Seconds the URL stays valid.",
)
@click.option(
    "--method",
    type=click.Choice(["GET", "PUT"], case_sensitive=False),
    default="GET",
    show_default=True,
    help="What the URL allows.",
)
@click.pass_context
def presign(ctx: click.Context, url: S3Location, expires_in: int, method: str) -> None:
    """Print a presigned URL for one object (no credentials needed to use it)."""
    run(commands.presign, options_of(ctx), _key_required(url), expires_in, method.upper())


@main.group()
def acl() -> None:
    """Read or set the canned ACL of a bucket or an object."""


@acl.command("set")
@click.argument("url", callback=location)
@click.argument("canned_acl", metavar="ACL")
@click.pass_context
def acl_set(ctx: click.Context, url: S3Location, canned_acl: str) -> None:
    """Apply a canned ACL (private, public-read, …) to s3://bucket[/key]."""
    run(commands.acl_set, options_of(ctx), url, canned_acl)


@acl.command("get")
@click.argument("url", callback=location)
@click.pass_context
def acl_get(ctx: click.Context, url: S3Location) -> None:
    """Show the grants on s3://bucket[/key]."""
    run(commands.acl_get, options_of(ctx), url)


def _bucket_only(url: S3Location) -> S3Location:
    if url.key.strip("/"):
        raise click.BadParameter(
            printable(f"{url} names an object; give s3://bucket"), param_hint="URL"
        )
    return S3Location(url.bucket)


def _key_required(url: S3Location) -> S3Location:
    if not url.key or url.key.endswith("/"):
        raise click.BadParameter(
            printable(f"{url} names no object; give s3://bucket/key"), param_hint="URL"
        )
    return url


main.add_command(sync)
main.add_command(uploads)
main.add_command(run_file)
