"""The README's benchmark tables, folded from a run's figures."""

from __future__ import annotations

from benchmarks.summary import tables


def fig(
    scenario: str, tool: str, variant: str, median: float, failed: int = 0
) -> dict[str, object]:
    return {
        "scenario": scenario,
        "tool": tool,
        "variant": variant,
        "unit": "MiB/s",
        "median": median,
        "cpu_s_per_gib": 1.0,
        "peak_rss_mib": 50.0,
        "failed": failed,
    }


def test_ratios_against_the_fastest_other_s5cmd_and_boto3_and_the_durable_table() -> None:
    figures = [
        fig("download-1gib", "s3flow", "defaults", 600.0),
        fig("download-1gib", "s3flow", "fsync", 500.0),
        fig("download-1gib", "s5cmd", "defaults", 1000.0),
        fig("download-1gib", "s5cmd", "fsync", 800.0),
        fig("download-1gib", "boto3", "defaults", 300.0),
        fig("download-1gib", "rclone", "defaults", 2000.0, failed=1),  # failed: never counted
        fig("upload-1gib", "s3flow", "defaults", 200.0),
    ]
    text = tables({"figures": figures})
    row = next(line for line in text.splitlines() if line.startswith("| download 1 GiB, up"))
    assert "s5cmd 1,000.0 MiB/s" in row and row.endswith("| 0.60 / 0.60 / 2.00 |")
    assert "| upload 1 GiB |" in text and "— (not run)" in text
    assert text.splitlines()[-1].endswith("| 0.62 |")  # 500 / 800
