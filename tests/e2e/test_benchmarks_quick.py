"""A short run of `make bench`, so the benchmark keeps working (its numbers are not judged)."""

import json
import subprocess
import sys
from pathlib import Path

from tests.processes import ROOT


def test_the_benchmark_runs_and_reports_every_number(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--events",
            "1000",
            "--posts",
            "5",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        check=True,
        timeout=300,
        capture_output=True,
    )
    results = json.loads(output.read_text())
    assert results["latency"]["posts"] == 5
    assert results["latency"]["post_to_visible"]["p50_ms"] > 0
    assert results["fill"]["events"] >= 900
    assert {r["projection"] for r in results["catch_up"]} == {"thread_view", "like_counts"}
    assert all(r["events"] == results["fill"]["events"] for r in results["catch_up"])


def test_the_audit_benchmark_runs(tmp_path: Path) -> None:
    output = tmp_path / "audit.json"
    subprocess.run(
        [sys.executable, "-m", "benchmarks.audit", "--events", "2000", "--output", str(output)],
        cwd=ROOT,
        check=True,
        timeout=300,
        capture_output=True,
    )
    results = json.loads(output.read_text())
    assert results["events"] == 2000
    for figure in (
        "verify_chains_events_per_s",
        "replay_thread_view_events_per_s",
        "verify_models_events_per_s",
        "import_seconds",
    ):
        assert results[figure] > 0


def test_a_short_soak_has_no_server_errors(tmp_path: Path) -> None:
    output = tmp_path / "soak.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.soak",
            "--minutes",
            "0.25",
            "--concurrency",
            "8",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        check=True,
        timeout=300,
        capture_output=True,
    )
    report = json.loads(output.read_text())
    assert report["requests"] > 100 and report["counts"]["status_5xx"] == 0
