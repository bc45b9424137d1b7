"""``python -m benchmarks.run [--quick]``: every tool, every scenario, interleaved, verified.

Starts SeaweedFS on loopback, generates the data, seeds the objects that download scenarios
read. With ``--sweep`` (the default, not with ``--quick``) it then runs every tool's tuned
candidates once per scenario and keeps the fastest as that scenario's "tuned" (``sweep.py``);
without, tuned is each tool's first candidate. Then for each repetition and scenario it runs
every tool variant once, in an order rotated per repetition. Each run starts from an empty
upload prefix / an empty local directory and is verified (uploads: keys and sizes listed;
downloads: every byte's SHA-256) before it counts, in the sweep as in the timed runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks import data, report, s3admin, sweep
from benchmarks.anchors import Anchors, ensure_anchors
from benchmarks.measure import run_child
from benchmarks.scenarios import MiB, Plan, Scenario, build_plan
from benchmarks.tools import Endpoint, Job, ToolContext, Variant, all_variants
from benchmarks.versions import environment

if TYPE_CHECKING:
    from s3flow.testing.servers import S3Server

BUCKET = "bench"


@dataclass(frozen=True, kw_only=True)
class RunResult:
    """One tool variant, one scenario, one repetition."""

    tool: str
    variant: str
    candidate: int  # which of the tool's tuned candidates; 0 for defaults
    scenario: str
    rep: int
    ok: bool
    error: str
    wall_s: float
    cpu_user_s: float
    cpu_sys_s: float
    max_rss_mib: float
    total_bytes: int
    files: int


def _timeout(scenario: Scenario) -> float:
    return 60 + scenario.total_bytes / (10 * MiB) + scenario.count * 0.05


def _run_one(
    v: Variant,
    s: Scenario,
    rep: int,
    *,
    endpoint: Endpoint,
    https: Endpoint,
    server: S3Server,
    src: Path,
    work: Path,
    digests: dict[str, str],
    phase: str = "r",
) -> RunResult:
    tag = f"{s.name}/{phase}{rep}-{v.tool}-{v.variant}{v.candidate or ''}"
    if s.tls:
        endpoint = https
    if s.direction == "upload":
        local = src / s.dataset if s.many else src / s.dataset / data.SINGLE_NAME
        key = f"runs/{tag}/" + ("" if s.many else data.SINGLE_NAME)
    else:
        local = work / tag
        local.mkdir(parents=True)
        key = s.seed_prefix + ("" if s.many else data.SINGLE_NAME)
        if not s.many:
            local = local / data.SINGLE_NAME
    job = Job(scenario=s, endpoint=endpoint, bucket=BUCKET, key=key, local=local)
    _settle()
    try:
        cmd = v.build(job)
        child = run_child(cmd.argv, env=cmd.env, timeout=_timeout(s))
        error = _check(job, child.returncode, child.output_tail, server, digests)
    except OSError as err:  # e.g. the executable does not exist yet
        child, error = None, f"{type(err).__name__}: {err}"
    finally:
        if s.direction == "upload":
            s3admin.delete_prefix(server, BUCKET, f"runs/{tag}/")
        else:
            shutil.rmtree(work / tag, ignore_errors=True)
    return RunResult(
        tool=v.tool,
        variant=v.variant,
        candidate=v.candidate,
        scenario=s.name,
        rep=rep,
        ok=error is None,
        error=error or "",
        wall_s=child.wall_s if child else 0.0,
        cpu_user_s=child.user_s if child else 0.0,
        cpu_sys_s=child.sys_s if child else 0.0,
        max_rss_mib=child.max_rss_mib if child else 0.0,
        total_bytes=s.total_bytes,
        files=s.count,
    )


def _settle() -> None:
    """Start every run from the same memory state.

    On this VM the first write into never-touched page-cache memory costs
    several times more kernel CPU than a write into recycled pages, so
    whichever tool ran after a large free looked cheaper. Flushing and
    dropping the page cache (root only; skipped otherwise) levels that.
    """
    os.sync()
    with contextlib.suppress(OSError):
        Path("/proc/sys/vm/drop_caches").write_text("3\n")


def _check(job: Job, code: int, tail: str, server: S3Server, digests: dict[str, str]) -> str | None:
    if code != 0:
        last = [line for line in tail.strip().splitlines() if line.strip()][-1:] or [""]
        return f"exit {code}: {last[0][:160]}"
    if job.scenario.direction == "download":
        if job.scenario.many:
            return data.verify_tree(job.local, digests)
        return data.verify_file(job.local, digests[data.SINGLE_NAME])
    prefix = job.key if job.scenario.many else job.key[: -len(data.SINGLE_NAME)]
    listed = s3admin.list_sizes(server, BUCKET, prefix)
    want = {prefix + name: job.scenario.file_size for name in digests}
    if listed != want:
        return f"uploaded {len(listed)} objects / {sum(listed.values())} bytes, want {len(want)}"
    return None


_BOTO3_SEED = """
import sys, pathlib, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
for path in sorted(pathlib.Path(sys.argv[2]).iterdir()):
    s3.upload_file(str(path), sys.argv[3], sys.argv[4] + path.name)  # defaults: CRC32
"""


def _seed(anchors: Anchors, endpoint: Endpoint, src: Path, s: Scenario, server: S3Server) -> None:
    if s.seeder == "s5cmd" and anchors.s5cmd is not None:
        dst = f"s3://{BUCKET}/{s.seed_prefix}"
        argv = (
            str(anchors.s5cmd),
            "--endpoint-url",
            endpoint.url,
            "cp",
            f"{src / s.dataset}/*",
            dst,
        )
    elif s.seeder == "boto3" and anchors.python is not None:
        argv = (str(anchors.python), "-c", _BOTO3_SEED, endpoint.url, str(src / s.dataset))
        argv += (BUCKET, s.seed_prefix)
    else:
        raise SystemExit(
            f"{s.name} needs {s.seeder} (benchmarks/.venv-anchors) to seed its objects"
        )
    child = run_child(argv, env=endpoint.env(), timeout=600)
    listed = s3admin.list_sizes(server, BUCKET, s.seed_prefix)
    if child.returncode != 0 or len(listed) != s.count:
        raise SystemExit(f"seeding {s.seed_prefix} failed: {child.output_tail[-500:]}")


def run(
    plan: Plan, variants: list[Variant], anchors: Anchors, *, do_sweep: bool
) -> tuple[list[RunResult], list[RunResult]]:
    """The timed runs and the sweep's runs (none without ``do_sweep``)."""
    from s3flow.testing.servers import SeaweedFS

    results: list[RunResult] = []
    sweep_runs: list[RunResult] = []
    with tempfile.TemporaryDirectory(prefix="s3flow-bench-") as tmp:
        src, work = Path(tmp, "src"), Path(tmp, "work")
        digests: dict[str, dict[str, str]] = {}
        for s in plan.scenarios:
            if s.dataset not in digests:
                print(f"generating {s.dataset} …", flush=True)
                digests[s.dataset] = data.generate(src, s)
        weed = SeaweedFS(https=True)  # TLS beside plain HTTP, a throwaway cert for 127.0.0.1
        server = weed.start()
        try:
            endpoint = Endpoint(
                url=server.endpoint_url,
                access_key=server.access_key,
                secret_key=server.secret_key,
                region=server.region,
            )
            tls_endpoint = replace(
                endpoint, url=server.https_endpoint or "", ca_bundle=server.ca_file
            )
            s3admin.create_bucket(server, BUCKET)
            seeded = set()
            for s in plan.scenarios:
                if s.direction == "download" and s.seed_prefix not in seeded:
                    _seed(anchors, endpoint, src, s, server)
                    seeded.add(s.seed_prefix)

            def measure(v: Variant, s: Scenario, rep: int, phase: str = "r") -> RunResult:
                r = _run_one(
                    v,
                    s,
                    rep,
                    endpoint=endpoint,
                    https=tls_endpoint,
                    server=server,
                    src=src,
                    work=work,
                    digests=digests[s.dataset],
                    phase=phase,
                )
                if s.direction == "upload":  # untimed: give the deleted bytes back
                    weed.vacuum()
                return r

            grid = sweep.sweep_order(variants) if do_sweep else []
            sweep_total = sum(v.runs_in(s) for s in plan.scenarios for v in grid)
            for s in plan.scenarios:
                for v in (v for v in grid if v.runs_in(s)):
                    sweep_runs.append(measure(v, s, 0, phase="sweep"))
                    n = f"{len(sweep_runs):3d}/{sweep_total}"
                    print(f"[sweep {n}] {report.progress_line(sweep_runs[-1])}", flush=True)
            chosen = sweep.choose(report.sweep_trials(sweep_runs))
            timed = {
                s.name: [v for v in sweep.timed_variants(variants, s.name, chosen) if v.runs_in(s)]
                for s in plan.scenarios
            }
            total = plan.repetitions * sum(len(vs) for vs in timed.values())
            for rep in range(plan.repetitions):
                for s in plan.scenarios:
                    vs = timed[s.name]
                    k = rep % max(len(vs), 1)  # rotate the order by one each repetition
                    for v in vs[k:] + vs[:k]:
                        results.append(measure(v, s, rep))
                        line = report.progress_line(results[-1])
                        print(f"[{len(results):3d}/{total}] {line}", flush=True)
        finally:
            weed.stop(timeout=2.0)  # data dir is thrown away: no need for a clean filer stop
    return results, sweep_runs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    p.add_argument("--quick", action="store_true", help="256 MiB, 200 x 256 KiB, 1 repetition")
    p.add_argument("--small", action="store_true", help="add 10,000 x 4 KiB")
    p.add_argument("--huge", action="store_true", help="add one 5 GiB file")
    p.add_argument("--reps", type=int, help="repetitions (default 3, quick 1)")
    p.add_argument("--tools", help="comma-separated tool names to run (default: all)")
    p.add_argument("--scenarios", help="comma-separated scenario names (default: all)")
    p.add_argument(
        "--variants",
        default="all",
        help="comma-separated configurations of each tool to run: defaults, tuned, fsync "
        "(default: all of them)",
    )
    p.add_argument(
        "--sweep",
        action=argparse.BooleanOptionalAction,
        help="before the timed runs, run each tool's tuned candidates once per scenario and "
        "time the fastest as tuned (default: on, off with --quick); without: the first",
    )
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = p.parse_args(argv)
    do_sweep = not args.quick if args.sweep is None else args.sweep
    plan = build_plan(quick=args.quick, small=args.small, huge=args.huge, repetitions=args.reps)
    if args.scenarios:
        wanted = set(args.scenarios.split(","))
        plan = Plan(
            scenarios=tuple(s for s in plan.scenarios if s.name in wanted),
            repetitions=plan.repetitions,
        )
    anchors = ensure_anchors()
    variants, notes = all_variants(ToolContext(anchors=anchors))
    notes = [*anchors.notes, *notes]
    if args.tools:
        wanted = set(args.tools.split(","))
        variants = [v for v in variants if v.tool in wanted]
    if args.variants != "all":
        chosen = set(args.variants.split(","))
        if unknown := chosen - {"defaults", "tuned", "fsync", "botocore-path"}:
            p.error(f"--variants: unknown {', '.join(sorted(unknown))}")
        variants = [v for v in variants if v.variant in chosen]
    for note in notes:
        print(f"note: {note}")
    started = time.time()
    results, sweep_runs = run(plan, variants, anchors, do_sweep=do_sweep)
    meta = environment(anchors, argv if argv is not None else sys.argv[1:], started)
    report.write(
        results, variants, plan, meta, notes, args.out, sweep_runs=sweep_runs, swept=do_sweep
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
