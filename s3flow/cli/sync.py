"""``s3flow sync SRC DST``: the click command; its flags become one ``SyncOptions``.

``--include`` and ``--exclude`` keep their command-line order across both
flags (the last matching rule wins), which click alone would lose: the
command records the order of occurrences while parsing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import click

from s3flow.bulk.filters import Filters, RuleKind, Wildcard
from s3flow.bulk.options import SyncOptions
from s3flow.cli.bulk import BulkJob, run_job
from s3flow.cli.customer_keys import customer_key_options
from s3flow.cli.runtime import cli_message, options_of, run
from s3flow.errors import ConfigError
from s3flow.models import S3Location

__all__ = ["RuleOrder", "check_sides", "rule_filters", "sync"]

_RULES = ("exclude", "include")
_ORDER_KEY = "s3flow.rule_order"


class RuleOrder(click.Command):
    """A command that remembers the order of --include/--exclude occurrences."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        _, _, order = self.make_parser(ctx).parse_args(args=list(args))
        ctx.meta[_ORDER_KEY] = [p.name for p in order if getattr(p, "name", None) in _RULES]
        return super().parse_args(ctx, args)


def rule_filters(ctx: click.Context, exclude: tuple[str, ...], include: tuple[str, ...]) -> Filters:
    values: dict[str, list[str]] = {"exclude": list(exclude), "include": list(include)}
    order: list[str] = ctx.meta.get(_ORDER_KEY, [])
    rules: list[tuple[RuleKind, str]] = []
    for name in order:
        kind: RuleKind = "include" if name == "include" else "exclude"
        rules.append((kind, values[name].pop(0)))
    return Filters.of(*rules)


def check_sides(src: str, dst: str) -> None:
    """One side must be an s3:// URL; URLs are checked before any I/O (exit 2)."""
    try:
        urls = [S3Location.parse(side) for side in (src, dst) if S3Location.is_s3_url(side)]
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from None
    if not urls:
        raise click.BadParameter("one of SRC and DST must be an s3:// URL")
    for url in urls:
        # A pattern read as a prefix lists nothing, and --delete would then empty DST.
        if Wildcard.has(url.key):
            raise click.BadParameter(
                f"{url}: sync takes a prefix, not wildcards (* ?); "
                "filter with --include/--exclude instead"
            )
    if "-" in (src, dst):
        raise click.BadParameter("- (stdin/stdout) is not a directory or a prefix")


_path = click.Path(dir_okay=False, path_type=Path)


@click.command(cls=RuleOrder)
@click.argument("src")
@click.argument("dst")
@click.option("--delete", is_flag=True, help="Delete destination objects the source lacks.")
@click.option("--dry-run", is_flag=True, help="Print what would be done; change nothing.")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip keys matching GLOB.")
@click.option(
    "--include", multiple=True, metavar="GLOB", help="Keep keys matching GLOB (last rule wins)."
)
@click.option(
    "--follow-symlinks/--no-follow-symlinks",
    default=True,
    help="From a local directory: follow symbolic links [default: follow].",
)
@click.option("--size-only", is_flag=True, help="Compare sizes only, not modification times.")
@click.option("--checksum", is_flag=True, help="Compare content (ETag/checksum), not mtimes.")
@click.option(
    "--concurrency-objects",
    type=click.IntRange(min=1),
    default=32,
    show_default=True,
    metavar="N",
    help="Objects in flight at once (--concurrency is parts per object).",
)
@click.option(
    "--shards",
    type=click.IntRange(min=1),
    metavar="N",
    help="Split the keyspace into N ranges listed in parallel [default: 1; 64 on Dask].",
)
@click.option(
    "--listing-order",
    type=click.Choice(["auto", "s3", "path"]),
    default="auto",
    show_default=True,
    help="How the server lists keys: auto (detect), s3 (AWS, MinIO) or path (SeaweedFS).",
)
@click.option(
    "--manifest",
    type=_path,
    help="Journal of settled keys; a rerun skips those whose source is unchanged.",
)
@click.option("--failures-file", type=_path, help="Write the keys that failed here.")
@click.option("--from-list", type=_path, help="Only the keys in this file (e.g. a failures file).")
@click.option("--source-endpoint-url", metavar="URL", help="Endpoint of SRC (else --endpoint-url).")
@click.option("--dest-endpoint-url", metavar="URL", help="Endpoint of DST (else --endpoint-url).")
@click.option("--source-profile", help="AWS profile for SRC (else --profile).")
@click.option("--dest-profile", help="AWS profile for DST (else --profile).")
@click.option(
    "--dask-scheduler", metavar="ADDRESS", help="Run on a Dask cluster, e.g. tcp://host:8786."
)
@customer_key_options
@click.pass_context
def sync(
    ctx: click.Context,
    src: str,
    dst: str,
    delete: bool,
    dry_run: bool,
    exclude: tuple[str, ...],
    include: tuple[str, ...],
    follow_symlinks: bool,
    size_only: bool,
    checksum: bool,
    concurrency_objects: int,
    shards: int | None,
    listing_order: Literal["auto", "s3", "path"],
    manifest: Path | None,
    failures_file: Path | None,
    from_list: Path | None,
    source_endpoint_url: str | None,
    dest_endpoint_url: str | None,
    source_profile: str | None,
    dest_profile: str | None,
    dask_scheduler: str | None,
) -> None:
    """Make DST like SRC: copy new and changed objects, optionally --delete extras.

    SRC and DST are local directories or s3://bucket/prefix URLs. Objects are
    compared by size and modification time (or --size-only, or --checksum).

    \b
    Examples:
      s3flow sync photos/ s3://backups/photos/ --delete
      s3flow sync s3://logs/2024/ /data/logs --exclude '*.tmp'
      s3flow sync s3://a/ s3://b/ --dest-endpoint-url http://other:9000
    """
    check_sides(src, dst)
    if size_only and checksum:
        raise click.UsageError("--size-only and --checksum cannot be combined")
    try:
        options = SyncOptions(
            compare="checksum" if checksum else "size_only" if size_only else "size_mtime",
            delete=delete,
            dry_run=dry_run,
            filters=rule_filters(ctx, exclude, include),
            concurrency=concurrency_objects,
            shards=1 if dask_scheduler or shards is None else shards,
            order=listing_order,
            manifest=manifest,
            failures_file=failures_file,
            from_list=from_list,
            follow_symlinks=follow_symlinks,
        )
    except ConfigError as exc:
        raise click.UsageError(cli_message(str(exc))) from None
    job = BulkJob(
        src=src,
        dst=dst,
        options=options,
        source_endpoint=source_endpoint_url,
        dest_endpoint=dest_endpoint_url,
        source_profile=source_profile,
        dest_profile=dest_profile,
        dask_scheduler=dask_scheduler,
        cluster_shards=shards or 64,
    )
    run(
        run_job,
        options_of(ctx),
        job,
        interrupted="interrupted; objects already copied (and deleted) stay so, unfinished ones "
        "were aborted or removed; rerun to finish",
    )
