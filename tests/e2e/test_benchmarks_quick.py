"""Short runs of the benchmarks, so they keep working. Their numbers are reported by the full
runs, not judged here (timers stay out of the test suite): these check that every request was
answered as it should be and that every figure of the report is there."""

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.loadgen import Request, load
from projections.names import PROJECTION_NAMES
from tests.processes import ROOT

SUITE_RESULTS = (
    "new_comments",
    "hot_thread",
    "likes",
    "thread_1000",
    "counts_20_threads",
    "first_page_by_size",
)
OURS_ONLY = ("command_to_visible", "replay", "live")
MEASURES = 25  # rows of the table; at this scale, 6 of live readers (one size, two layouts)


def run_benchmark(module: str, output: Path, *args: str, timeout: float = 300) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", *args, "--output", str(output)],
        cwd=ROOT,
        timeout=timeout,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(output.read_text())


def test_the_benchmark_runs_and_reports_every_number(tmp_path: Path) -> None:
    results = run_benchmark("run", tmp_path / "results.json", "--events", "1000", "--posts", "5")
    assert results["latency"]["posts"] == 5
    assert results["latency"]["post_to_visible"]["p50_ms"] > 0
    assert results["fill"]["events"] >= 900
    assert {r["projection"] for r in results["catch_up"]} == set(PROJECTION_NAMES)
    assert all(r["events"] == results["fill"]["events"] for r in results["catch_up"])


def test_the_live_benchmark_runs(tmp_path: Path) -> None:
    results = run_benchmark(
        "live", tmp_path / "live.json", "--readers", "30", "--write-seconds", "0.5"
    )
    assert [(r["readers"], r["threads"]) for r in results] == [(30, 1), (30, 100)]
    for result in results:
        assert result["delivered"] == 30 and result["delivery_ms"]["p99"] > 0
        connections = result["gateway_redis_connections"]
        assert 0 < connections["before"] <= connections["with_readers"] <= connections["before"] + 1
        assert result["writes_with_readers"]["per_s"] > 0


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


async def _serve_chunked_then_close(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Answers chunked on a kept-alive connection, then with Connection: close."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 3\r\nConnection: close\r\n\r\nnew")
    await writer.drain()
    writer.close()


async def test_the_load_generator_reads_chunked_bodies_and_reconnects_after_close() -> None:
    connections: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        await _serve_chunked_then_close(reader, writer)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    bodies: list[bytes] = []
    async with server:
        result = await load(
            1,
            6,
            lambda _: Request("GET", "/"),
            base_url=f"http://127.0.0.1:{port}",
            on_response=lambda _n, response, _sent: bodies.append(response.body),
        )
    assert result["statuses"] == {200: 3, 201: 3}
    assert bodies == [b"ok", b"new"] * 3 and len(connections) == 3


def check_system(results: dict[str, Any]) -> None:
    """Every request of every measure was answered as it should be; every figure is there."""
    assert set(SUITE_RESULTS) <= set(results)
    for level in ("1", "16", "64"):
        posts, likes = results["new_comments"][level], results["likes"][level]
        assert posts["statuses"] == {"201": posts["requests"]} and posts["requests"] > 0
        assert likes["statuses"] == {"200": likes["requests"]} and likes["requests"] > 0
    hot = results["hot_thread"]
    assert hot["statuses"] == {"201": hot["requests"]} and hot["requests"] > 0
    for costed in (results["new_comments"]["16"], hot):
        assert costed["cpu_ms_per_comment"] > 0  # every process of the system, Redis included
    reads = results["thread_1000"]
    for result in (reads["whole"], reads["first_page"], results["counts_20_threads"]):
        assert result["statuses"] == {"200": result["requests"]} and result["p99_ms"] > 0
    sizes = results["first_page_by_size"]
    assert set(sizes) == {"10", "1000", "100000"}
    assert sizes["10"]["comments"] == 10 and sizes["1000"]["comments"] == reads["comments"]
    assert results["memory"]["bytes_per_comment"] > 0


def test_the_suite_writes_every_measure(tmp_path: Path) -> None:
    report = run_benchmark("suite", tmp_path / "suite.json", "--scale", "0.005")
    machine = report["machine"]
    assert machine["cores"] >= 1 and machine["cpu"] and machine["versions"]["valkey"]
    assert report["settings"]["commentstream"]["partitions"] >= 1
    ours = report["results"]["commentstream"]
    check_system(ours)
    big = ours["first_page_by_size"]["100000"]
    assert big["comments"] > 0 and big["statuses"] == {"200": big["requests"]}
    by_process = ours["new_comments"]["16"]["cpu_ms_per_comment_by_process"]
    assert {"redis", "gateway", "processor"} <= set(by_process)
    visible = ours["command_to_visible"]
    assert visible["lag"]["comments"] == visible["posts"]["statuses"]["201"] > 0
    assert visible["lag"]["never_seen"] == 0 == visible["lag_thread_view"]["never_seen"]
    assert visible["lag_thread_view"]["p99_ms"] <= visible["lag"]["p99_ms"]
    cores = visible["cores"]
    assert 0 < cores["machine_busy_share"] <= 1
    assert set(cores["run_queue_wait_ms_per_s"]) == set(by_process) | {"bench"}
    assert cores["cpu_ms_per_s"]["processor"] > 0 and cores["cpu_ms_per_s"]["bench"] > 0
    replay = ours["replay"]
    assert replay["events"] > 0
    for name in ("thread_view", "like_counts"):
        assert replay[name]["events_per_s"] > 0 and replay[name]["server_cpu_us_per_event"] > 0
    live = ours["live"]["runs"]
    assert [(run["readers"], run["threads"]) for run in live] == [(50, 1), (50, 100)]
    assert all(run["delivered"] == 50 for run in live)
    assert len(report["rows"]) == MEASURES and report["table"].count("\n") == MEASURES + 1
    assert "isso" not in report["results"]
    assert all(row["ratio"] is None for row in report["rows"])


def test_the_suite_runs_isso_side_by_side(tmp_path: Path) -> None:
    """Installs Isso into .bench-peer/ when missing (about 25 s, from PyPI)."""
    report = run_benchmark(
        "suite", tmp_path / "peer.json", "--scale", "0.005", "--peer", "isso", timeout=400
    )
    assert report["machine"]["versions"]["isso"]
    check_system(report["results"]["commentstream"])
    isso = report["results"]["isso"]
    check_system(isso)
    assert isso["first_page_by_size"]["100000"]["comments"] > isso["thread_1000"]["comments"]
    assert all(name not in isso for name in OURS_ONLY)
    compared = [row for row in report["rows"] if row["ratio"] is not None]
    # posts and likes at 3 concurrencies, posts into one thread, whole, first page, counts,
    # first page at 10, 1,000 and 100,000 (at this scale: 500)
    assert len(compared) == 13
    assert all(row["ratio"] > 0 for row in compared)
    whole = next(row for row in report["rows"] if "whole" in row["measure"])
    assert whole["met"] is not None


def test_the_cluster_benchmark_runs_on_one_and_three_shards(tmp_path: Path) -> None:
    document = run_benchmark("cluster", tmp_path / "cluster.json", "--scale", "0.02")
    for layout, shards in (("1", 1), ("3", 3), ("3-per-shard", 3)):
        result = document["results"][layout]
        writes = result["new_comments_16"]
        # (202: answered "queued" after the write timeout, on a loaded machine; never an error)
        assert "201" in writes["statuses"] and set(writes["statuses"]) <= {"201", "202"}
        assert writes["cpu_ms_per_comment"] > 0
        assert {"200"} == set(result["thread_reads"]["whole"]["statuses"])
        assert len(result["shards"]) == shards
        held = sorted(p for shard in result["shards"] for p in shard["partitions"])
        assert held == list(range(8))  # every partition on exactly one shard
        counts = [len(shard["partitions"]) for shard in result["shards"]]
        assert max(counts) - min(counts) <= 1
    assert "3 shards, a process per shard" in document["table"]
