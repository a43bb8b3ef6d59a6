"""Short runs of `make bench`, `make bench-audit` and `make soak`, so they keep working. Their
numbers are reported by the full runs, not judged here (timers stay out of the test suite)."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.processes import ROOT


def run_benchmark(module: str, output: Path, *args: str) -> Any:
    subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", *args, "--output", str(output)],
        cwd=ROOT,
        check=True,
        timeout=300,
        capture_output=True,
    )
    return json.loads(output.read_text())


def test_the_benchmark_runs_and_reports_every_number(tmp_path: Path) -> None:
    results = run_benchmark("run", tmp_path / "results.json", "--events", "1000", "--posts", "5")
    assert results["latency"]["posts"] == 5
    assert results["latency"]["post_to_visible"]["p50_ms"] > 0
    assert results["fill"]["events"] >= 900
    assert {r["projection"] for r in results["catch_up"]} == {"thread_view", "like_counts"}
    assert all(r["events"] == results["fill"]["events"] for r in results["catch_up"])


def test_the_audit_benchmark_runs(tmp_path: Path) -> None:
    results = run_benchmark("audit", tmp_path / "audit.json", "--events", "2000")
    assert results["events"] == 2000
    for figure in (
        "verify_chains_events_per_s",
        "replay_thread_view_events_per_s",
        "verify_models_events_per_s",
        "import_seconds",
    ):
        assert results[figure] > 0


def test_a_short_soak_has_no_server_errors(tmp_path: Path) -> None:
    report = run_benchmark(
        "soak", tmp_path / "soak.json", "--minutes", "0.25", "--concurrency", "8"
    )
    assert report["requests"] > 100 and report["counts"]["status_5xx"] == 0


def test_the_http_suite_writes_its_report(tmp_path: Path) -> None:
    report = run_benchmark("suite", tmp_path / "suite.json", "--scale", "0.01")
    assert report["machine"]["cores"] >= 1 and report["machine"]["versions"]["fastapi"]
    results = report["results"]
    assert [r["concurrency"] for r in results["posts"]] == [1, 16, 64]
    assert all(r["statuses"] == {"201": r["requests"]} for r in results["posts"])
    assert set(results["first_page_by_size"]) == {"10", "1000", "3000"}
    assert results["redis_bytes_per_comment"] > 0
