"""The benchmark sweep: choosing each tool's tuned candidate, and the grids the tools declare."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import report, sweep
from benchmarks.anchors import Anchors
from benchmarks.run import RunResult
from benchmarks.scenarios import MiB, Plan, Scenario
from benchmarks.sweep import Trial
from benchmarks.tools import Command, Endpoint, Job, ToolContext, Variant, all_variants, knobs

UP = Scenario(name="upload-big", direction="upload", file_size=64 * MiB)
MANY = Scenario(name="download-many", direction="download", file_size=1024, count=10)


def _variant(tool: str, candidate: int = 0) -> Variant:
    return Variant(
        tool=tool,
        variant="tuned" if candidate else "defaults",
        config=f"{tool} #{candidate}",
        build=lambda job: Command(argv=(), env={}),
        candidate=candidate,
    )


def _trial(candidate: int, rate: float | None, tool: str = "a", scenario: str = "s") -> Trial:
    return Trial(tool=tool, scenario=scenario, candidate=candidate, rate=rate)


VARIANTS = [
    _variant("a"),
    _variant("a", 1),
    _variant("a", 2),
    _variant("a", 3),
    _variant("b"),
    _variant("b", 1),
    _variant("b", 2),
]


def test_the_fastest_candidate_is_chosen() -> None:
    trials = [_trial(1, 100.0), _trial(2, 250.0), _trial(3, 180.0)]
    assert sweep.choose(trials) == {("a", "s"): 2}


def test_a_tie_goes_to_the_lower_candidate_whatever_the_order() -> None:
    trials = [_trial(3, 200.0), _trial(2, 200.0), _trial(1, 150.0)]
    assert sweep.choose(trials) == {("a", "s"): 2}


def test_a_failed_candidate_is_never_chosen() -> None:
    trials = [_trial(1, 100.0), _trial(2, None), _trial(3, 90.0)]
    assert sweep.choose(trials) == {("a", "s"): 1}


def test_when_every_candidate_failed_there_is_no_choice() -> None:
    assert sweep.choose([_trial(1, None), _trial(2, None)]) == {}


def test_each_tool_and_scenario_is_chosen_separately() -> None:
    trials = [
        _trial(1, 10.0, "a", "up"),
        _trial(2, 20.0, "a", "up"),
        _trial(1, 30.0, "a", "down"),
        _trial(2, 20.0, "a", "down"),
        _trial(1, 5.0, "b", "up"),
        _trial(2, 1.0, "b", "up"),
    ]
    assert sweep.choose(trials) == {("a", "up"): 2, ("a", "down"): 1, ("b", "up"): 1}


def test_the_sweep_runs_every_candidate_once_tools_interleaved_and_staggered() -> None:
    c = [_variant("c", n) for n in (1, 2, 3)]
    order = [(v.tool, v.candidate) for v in sweep.sweep_order([*VARIANTS, *c])]
    assert order == [("a", 1), ("b", 2), ("c", 3), ("a", 2), ("b", 1), ("c", 1), ("a", 3), ("c", 2)]


def test_without_a_choice_tuned_is_each_tools_first_candidate() -> None:
    timed = sweep.timed_variants(VARIANTS, "s", {})
    assert [(v.tool, v.variant, v.candidate) for v in timed] == [
        ("a", "defaults", 0),
        ("a", "tuned", 1),
        ("b", "defaults", 0),
        ("b", "tuned", 1),
    ]


def test_timed_runs_use_the_choice_for_their_own_scenario_only() -> None:
    chosen = {("a", "s"): 3, ("b", "other"): 2}
    timed = sweep.timed_variants(VARIANTS, "s", chosen)
    assert [(v.tool, v.candidate) for v in timed if v.variant == "tuned"] == [("a", 3), ("b", 1)]


def _run(tool: str, candidate: int, wall_s: float, ok: bool = True) -> RunResult:
    return RunResult(
        tool=tool,
        variant="tuned",
        candidate=candidate,
        scenario=UP.name,
        rep=0,
        ok=ok,
        error="" if ok else "exit 1: boom",
        wall_s=wall_s,
        cpu_user_s=0.1,
        cpu_sys_s=0.1,
        max_rss_mib=10.0,
        total_bytes=UP.total_bytes,
        files=1,
    )


def test_the_report_states_the_pick_and_every_candidates_rate() -> None:
    runs = [_run("a", 1, 1.0), _run("a", 2, 0.5), _run("a", 3, 0.1, ok=False)]
    runs += [_run("b", 1, 2.0), _run("b", 2, 4.0)]
    trials = report.sweep_trials(runs)
    assert [t.rate for t in trials] == [64.0, 128.0, None, 32.0, 16.0]
    lines = report._tuned_section(
        VARIANTS, Plan(scenarios=(UP,), repetitions=1), trials, swept=True
    )
    assert "| upload-big | a | #2 | MiB/s | 64.0 | **128.0** | failed |" in lines
    assert "| upload-big | b | #1 | MiB/s | **32.0** | 16.0 |  |" in lines


def test_the_report_says_when_no_sweep_ran() -> None:
    plan = Plan(scenarios=(UP,), repetitions=1)
    (line,) = report._tuned_section(VARIANTS, plan, [], swept=False)
    assert "candidate #1" in line


def test_knobs_become_script_arguments() -> None:
    assert knobs(part_size_mib=16, get_concurrency=8) == (
        "--part-size-mib",
        "16",
        "--get-concurrency",
        "8",
    )


# --- the grids the tool adapters declare -----------------------------------------------------

ANCHORS = Anchors(python=Path("/py"), s5cmd=Path("/s5cmd"), rclone=Path("/rclone"))


def _argv(v: Variant, scenario: Scenario) -> tuple[str, ...]:
    ep = Endpoint(url="http://127.0.0.1:1", access_key="k", secret_key="s")
    key = "p/" if scenario.many else "p/f"
    job = Job(scenario=scenario, endpoint=ep, bucket="b", key=key, local=Path("/l"))
    return v.build(job).argv


def _tools() -> dict[str, list[Variant]]:
    variants, _ = all_variants(ToolContext(anchors=ANCHORS))
    out: dict[str, list[Variant]] = {}
    for v in variants:
        out.setdefault(v.tool, []).append(v)
    return out


def test_every_tool_has_defaults_and_two_or_three_numbered_candidates() -> None:
    tools = _tools()
    assert set(tools) == {"s3flow", "boto3", "s5cmd", "rclone", "aws-crt", "obstore"}
    for tool, variants in tools.items():
        assert [v.candidate for v in variants][:1] == [0], tool
        candidates = [v.candidate for v in variants if v.variant == "tuned"]
        assert candidates in ([1, 2], [1, 2, 3]), tool
        assert len({v.config for v in variants}) == len(variants), tool


# Candidate 1 is the fixed tuned setting from before the sweep, so --no-sweep changes nothing.
FORMER_TUNED = {
    ("s3flow", False): ("--concurrency", "32", "--part-size", "16MiB"),
    ("s3flow", True): ("cp", "--recursive", "--concurrency-objects", "64"),
    ("s5cmd", False): ("cp", "--concurrency", "16", "--part-size", "16"),
    ("s5cmd", True): ("--numworkers", "64", "cp"),
    ("rclone", False): (
        *("--s3-upload-concurrency", "16", "--s3-chunk-size", "16M"),
        *("--multi-thread-streams", "8", "--multi-thread-cutoff", "64M"),
    ),
    ("rclone", True): ("--transfers", "32", "--checkers", "32", "--s3-no-head"),
    ("boto3", False): ("--part-size-mib", "16", "--concurrency", "16", "--workers", "32"),
    ("aws-crt", False): ("--part-size-mib", "16", "--throughput-gbps", "2"),
    ("obstore", False): (
        *("--part-size-mib", "16", "--concurrency", "16"),
        *("--get-concurrency", "8", "--workers", "64"),
    ),
}


@pytest.mark.parametrize(("tool", "many"), sorted(FORMER_TUNED))
def test_candidate_one_is_the_former_fixed_setting(tool: str, many: bool) -> None:
    first = next(v for v in _tools()[tool] if v.candidate == 1)
    argv = " ".join(_argv(first, MANY if many else UP))
    assert " ".join(FORMER_TUNED[tool, many]) in argv


def test_https_and_fsync_variants_run_where_they_mean_something(tmp_path: Path) -> None:
    from benchmarks.scenarios import build_plan

    names = [s.name for s in build_plan().scenarios]
    assert "download-1gib-https" in names and "download-1000x256k-https" in names
    https = next(s for s in build_plan().scenarios if s.name == "download-1gib-https")
    assert https.tls and https.seed_prefix == f"seed-s5cmd/1x{1024 * MiB}/"  # same objects
    anchors = Anchors(python=Path("/py"), s5cmd=Path("/s5cmd"), rclone=Path("/rclone"), notes=[])
    variants, _ = all_variants(ToolContext(anchors=anchors))
    fsync = {v.tool for v in variants if v.variant == "fsync"}
    assert fsync == {"s3flow", "s5cmd"}
    for v in variants:
        if v.variant == "botocore-path":  # only where the fast path's own figures are
            assert (
                not v.runs_in(https)
                and v.build(
                    Job(
                        scenario=UP,
                        endpoint=Endpoint(url="http://127.0.0.1:1", access_key="a", secret_key="s"),
                        bucket="b",
                        key="k",
                        local=tmp_path / "f",
                    )
                ).env["S3FLOW_FAST_PATH"]
                == "0"
            )
            continue
        assert v.runs_in(https) == (v.tool not in ("aws-crt", "obstore"))
        assert v.runs_in(UP) == (v.variant != "fsync")
    ep = Endpoint(url="https://127.0.0.1:1", access_key="a", secret_key="s", ca_bundle="/ca.pem")
    job = Job(scenario=https, endpoint=ep, bucket="b", key="k", local=tmp_path / "f")
    by = {(v.tool, v.variant): v for v in variants}
    s3flow_fsync = by["s3flow", "fsync"].build(job)
    assert "--fsync" in s3flow_fsync.argv and s3flow_fsync.env["AWS_CA_BUNDLE"] == "/ca.pem"
    s5cmd_sync = by["s5cmd", "fsync"].build(job).argv
    assert s5cmd_sync[:3] == ("sh", "-c", '"$@" && sync') and "/s5cmd" in s5cmd_sync
    rclone = by["rclone", "defaults"].build(job).env
    assert "AWS_CA_BUNDLE" not in rclone and rclone["RCLONE_CA_CERT"] == "/ca.pem"


def test_refreshable_credentials_scenarios_run_s3flow_from_a_credential_process(
    tmp_path: Path,
) -> None:
    from benchmarks.scenarios import build_plan

    plan = {s.name: s for s in build_plan().scenarios}
    for name in ("upload-1gib-https-refreshable", "download-1gib-https-refreshable"):
        assert plan[name].tls and plan[name].creds == "refreshable"
    assert "upload-1gib-https" in plan  # the static-key run it is compared with
    anchors = Anchors(python=Path("/py"), s5cmd=Path("/s5cmd"), rclone=Path("/rclone"), notes=[])
    variants, _ = all_variants(ToolContext(anchors=anchors))
    scenario = plan["upload-1gib-https-refreshable"]
    (runs,) = [v for v in variants if v.runs_in(scenario)]
    assert (runs.tool, runs.variant) == ("s3flow", "defaults")
    ep = Endpoint(url="https://127.0.0.1:1", access_key="a", secret_key="s", ca_bundle="/ca.pem")
    job = Job(scenario=scenario, endpoint=ep, bucket="b", key="k", local=tmp_path / "f")
    env = runs.build(job).env
    assert "AWS_ACCESS_KEY_ID" not in env and env["AWS_PROFILE"] == "expiring"
    assert env["AWS_CA_BUNDLE"] == "/ca.pem"
    assert "credential_process" in Path(env["AWS_CONFIG_FILE"]).read_text()
