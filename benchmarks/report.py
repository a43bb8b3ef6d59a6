"""The suite's report: the machine it ran on, and one row per measure with ratio and target."""

import os
import platform
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from projections.names import PROJECTION_NAMES

OURS, PEER = "commentstream", "isso"
TIMES = "\u00d7"  # the multiplication sign of ratios
OK = (200, 201)
PACKAGES = (
    "faststream",
    "redis",
    "fastapi",
    "uvicorn",
    "pydantic",
    "hiredis",
    "orjson",
    "uvloop",
    "httptools",
)
ROOT = Path(__file__).resolve().parent.parent


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _git_commit() -> str:
    """HEAD's commit, with "+changes" when the work tree differs from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def machine(extra_versions: dict[str, str]) -> dict[str, Any]:
    """Cores, CPU, memory, Python, package versions and the commit the run measured."""
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gib": round(pages / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": {name: _package_version(name) for name in PACKAGES} | extra_versions,
        "commit": _git_commit(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


@dataclass(frozen=True)
class Row:
    """One line of the table; `met` is None where there is no target (or it needs the peer)."""

    measure: str
    commentstream: str
    isso: str
    ratio: float | None
    ratio_of: str
    target: str
    met: bool | None


def _errors(result: dict[str, Any]) -> str:
    """A mark for answers other than 200 and 201 (202 is a write that timed out; 0 failed)."""
    bad = sum(count for status, count in result["statuses"].items() if int(status) not in OK)
    return f" ⚠ {bad} not 200/201" if bad else ""


def rate_text(per_s: float) -> str:
    """Requests/s: whole numbers from 100 on, else one decimal."""
    return f"{per_s:,.0f}" if per_s >= 100 else f"{per_s:.1f}"


def ms_text(ms: float) -> str:
    """Milliseconds to three significant figures or so."""
    return f"{ms:,.0f}" if ms >= 100 else (f"{ms:.1f}" if ms >= 10 else f"{ms:.2f}")


def load_cell(result: dict[str, Any] | None) -> str:
    """Throughput and latency of one load measure."""
    if result is None:
        return "—"
    return (
        f"{rate_text(result['per_s'])}/s · p50 {ms_text(result['p50_ms'])}"
        f" · p99 {ms_text(result['p99_ms'])} ms" + _errors(result)
    )


def latency_cell(result: dict[str, Any] | None) -> str:
    """Latency of one concurrency-1 measure, with the thread's real size."""
    if result is None:
        return "—"
    size = f"{result['comments']:,} comments" + (", capped" if "capped" in result else "")
    latency = f"p50 {ms_text(result['p50_ms'])} · p99 {ms_text(result['p99_ms'])} ms"
    return f"{latency} ({size})" + _errors(result)


def _ratio(ours: dict[str, Any] | None, peer: dict[str, Any] | None, key: str) -> float | None:
    if not ours or not peer or key not in ours or key not in peer or not peer[key]:
        return None
    return float(f"{ours[key] / peer[key]:.3g}")


def _met(ok: Callable[[], bool], result: dict[str, Any] | None) -> bool | None:
    return ok() if result else None


def _load_row(
    measure: str,
    ours: dict[str, Any],
    peer: dict[str, Any] | None,
    target: str = "",
    ok: Callable[[dict[str, Any]], bool] | None = None,
) -> Row:
    met = _met(lambda: ok(ours), ours) if ok else None
    ratio = _ratio(ours, peer, "per_s")
    return Row(measure, load_cell(ours), load_cell(peer), ratio, "req/s", target, met)


CPU_TARGET_MS = 2.0
POSTS_TARGET_RATIO = 4.0


def _throughput_rows(ours: dict[str, Any], peer: dict[str, Any] | None) -> list[Row]:
    rows = []
    for key, label in (("new_comments", "new comment, 201"), ("likes", "like, 200")):
        for level in ("1", "16", "64"):
            row = _load_row(
                f"{label}, c{level}", ours[key][level], peer[key][level] if peer else None
            )
            if key == "new_comments" and level == "16":
                met = row.ratio >= POSTS_TARGET_RATIO if row.ratio is not None else None
                row = replace(row, target=f"≥ {POSTS_TARGET_RATIO:g}{TIMES} Isso", met=met)
            rows.append(row)
    rows.append(
        _load_row(
            "new comment, 201, c16, all into one thread",
            ours["hot_thread"],
            peer["hot_thread"] if peer else None,
        )
    )
    return [*rows, _cpu_row(ours, peer)]


def _cpu_cell(result: dict[str, Any]) -> str:
    return f"{result['cpu_ms_per_comment']:.2f} ms" if "cpu_ms_per_comment" in result else "—"


def _cpu_row(ours: dict[str, Any], peer: dict[str, Any] | None) -> Row:
    """CPU time of every process (Redis included) per accepted comment at c16, until visible."""
    mine = ours["new_comments"]["16"]
    theirs = peer["new_comments"]["16"] if peer else None
    measured = mine.get("cpu_ms_per_comment")
    return Row(
        "CPU per accepted comment, c16, every process + Redis",
        _cpu_cell(mine) + f" (one thread: {_cpu_cell(ours['hot_thread'])})",
        _cpu_cell(theirs) if theirs else "—",
        None,
        "",
        f"≤ {CPU_TARGET_MS:g} ms",
        measured <= CPU_TARGET_MS if measured is not None else None,
    )


def _size_label(nominal: int, actual: int) -> str:
    return f"{nominal:,}" if actual == nominal else f"{nominal:,} [{actual:,} at this scale]"


def _read_rows(ours: dict[str, Any], peer: dict[str, Any] | None) -> list[Row]:
    reads, peer_reads = ours["thread_1000"], peer["thread_1000"] if peer else None
    size = _size_label(1000, reads["comments"])
    whole = _load_row(
        f"thread of {size}, whole, c16",
        reads["whole"],
        peer_reads["whole"] if peer_reads else None,
    )
    whole_met = whole.ratio >= 500 if whole.ratio is not None else None
    rows = [
        replace(whole, target=f"≥ 500{TIMES} Isso", met=whole_met),
        _load_row(
            f"thread of {size}, first page (50), c16",
            reads["first_page"],
            peer_reads["first_page"] if peer_reads else None,
            "≥ 3,000/s, p99 < 30 ms",
            lambda r: bool(r["per_s"] >= 3000 and r["p99_ms"] < 30),
        ),
        _load_row(
            "counts of 20 threads, one request, c16",
            ours["counts_20_threads"],
            peer["counts_20_threads"] if peer else None,
        ),
    ]
    return rows


def _size_rows(ours: dict[str, Any], peer: dict[str, Any] | None) -> list[Row]:
    sizes, peer_sizes = ours["first_page_by_size"], peer["first_page_by_size"] if peer else {}
    smallest = sizes["10"]["p50_ms"]
    rows = []
    for nominal, result in sizes.items():
        target, met = "", None
        if nominal != "10":
            target = "p50 within ±20% of the 10-comment thread's"
            met = abs(result["p50_ms"] / smallest - 1) <= 0.2 if smallest else None
        peer_result = peer_sizes.get(nominal)
        rows.append(
            Row(
                f"first page, thread of {int(nominal):,}, c1",
                latency_cell(result),
                latency_cell(peer_result),
                _ratio(result, peer_result, "p50_ms"),
                "p50 ms",
                target,
                met,
            )
        )
    return rows


def _failed(result: dict[str, Any]) -> str:
    return f"failed: {result['error']}"[:200]


def _visible_row(visible: dict[str, Any], peer: dict[str, Any] | None) -> Row:
    target, isso = "p99 < 50 ms", "n/a: writes are synchronous" if peer else "—"
    if "error" in visible:
        return Row(
            "command → visible (both read models)", _failed(visible), isso, None, "", target, None
        )
    lag, in_view = visible["lag"], visible["lag_thread_view"]
    return Row(
        f"command → visible (both read models), open loop at {visible['rate_per_s']:,.0f}/s",
        f"p50 {ms_text(lag['p50_ms'])} · p99 {ms_text(lag['p99_ms'])}"
        f" · max {ms_text(lag['max_ms'])} ms (the thread view alone: p50"
        f" {ms_text(in_view['p50_ms'])} · p99 {ms_text(in_view['p99_ms'])} ms)"
        + _contention_text(visible.get("cores")),
        isso,
        None,
        "",
        target,
        lag["p99_ms"] < 50 and lag["never_seen"] == 0,
    )


def _contention_text(cores: dict[str, Any] | None) -> str:
    """How busy the cores were meanwhile, and how long the stack's processes queued for one."""
    if not cores:
        return ""
    waits = {n: w for n, w in cores["run_queue_wait_ms_per_s"].items() if n != "bench"}
    return (
        f"; cores {cores['machine_busy_share']:.0%} busy, the stack's processes waited"
        f" {sum(waits.values()):,.0f} ms per s for a core"
    )


# Events per second into a fresh read model (issue 15); the moderation model has no target.
REPLAY_TARGETS = {"thread_view": 40_000, "like_counts": 120_000}


def _replay_rows(replay: dict[str, Any], peer: dict[str, Any] | None) -> list[Row]:
    rows = []
    for name in PROJECTION_NAMES:
        target = REPLAY_TARGETS.get(name)
        label = f"replay into a fresh {name}"
        if "error" in replay:
            cell, met = _failed(replay), None
        else:
            label = f"replay {replay['events']:,} events into a fresh {name}"
            measured = replay[name]
            server = measured.get("server_cpu_us_per_event")
            cell, met = (
                f"{measured['events_per_s']:,}/s"
                + (f" (Redis itself: {server} µs of CPU per event)" if server else ""),
                measured["events_per_s"] >= target if target else None,
            )
        isso = "n/a: no event log" if peer else "—"
        rows.append(Row(label, cell, isso, None, "", f"≥ {target:,}/s" if target else "", met))
    return rows


def _memory_row(memory: dict[str, Any], peer: dict[str, Any] | None) -> Row:
    peer_memory = peer["memory"] if peer else None
    return Row(
        "bytes per comment, 300-char body",
        f"{memory['bytes_per_comment']:,} B (Redis used_memory)",
        f"{peer_memory['bytes_per_comment']:,} B (SQLite file)" if peer_memory else "—",
        None,
        "",
        "≤ 1,500 B",
        memory["bytes_per_comment"] <= 1500,
    )


LIVE_TARGETS = {1_000: ("p99 < 100 ms", 100.0), 10_000: ("p99 < 1 s", 1_000.0)}


def _live_rows(live: dict[str, Any] | None, peer: dict[str, Any] | None) -> list[Row]:
    """Delivery to every live reader per size and layout; the gateway's Redis connections and
    memory per reader; and new comments with the most readers open against none."""
    isso = "n/a: no live updates" if peer else "—"
    if live is None:
        return []
    if "error" in live:
        return [Row("live readers", _failed(live), isso, None, "", "", None)]
    runs = live["runs"]
    rows = []
    for run in runs:
        where = "one thread" if run["threads"] == 1 else f"{run['threads']} threads"
        delivery = run["delivery_ms"]
        target, limit = LIVE_TARGETS.get(run["readers"], ("", None))
        everyone = run["delivered"] == run["readers"]
        rows.append(
            Row(
                f"live: a new comment to {run['readers']:,} readers on {where}",
                f"p50 {ms_text(delivery['p50'])} · p99 {ms_text(delivery['p99'])}"
                f" · max {ms_text(delivery['max'])} ms"
                + ("" if everyone else f" ⚠ {run['delivered']:,} got it"),
                isso,
                None,
                "",
                target,
                None if limit is None else delivery["p99"] < limit and everyone,
            )
        )
    connections = [run["gateway_redis_connections"] for run in runs]
    held = ", ".join(str(c["with_readers"]) for c in connections)
    sizes = ", ".join(f"{run['readers']:,}" for run in runs)
    rows.append(
        Row(
            "live: the gateway's Redis connections",
            f"{held} with {sizes} readers ({connections[0]['before']} without)",
            isso,
            None,
            "",
            "independent of readers",
            all(c["with_readers"] == connections[0]["before"] for c in connections),
        )
    )
    most = max(runs, key=lambda run: run["readers"])
    rows.append(
        Row(
            f"live: the gateway's memory per reader, {most['readers']:,} readers",
            f"{most['gateway_bytes_per_reader']:,} B",
            isso,
            None,
            "",
            "",
            None,
        )
    )
    for run in (r for r in runs if r["readers"] == most["readers"]):
        busy = run["writes_with_readers"]
        before, after = run["writes_without_readers"], run["writes_without_readers_after"]
        without = (before["p99_ms"] + after["p99_ms"]) / 2
        where = "one thread" if run["threads"] == 1 else f"{run['threads']} threads"
        rows.append(
            Row(
                f"live: new comments at c16 with {run['readers']:,} readers on {where}",
                f"{load_cell(busy)} (without readers, before and after: {load_cell(before)};"
                f" {load_cell(after)})",
                isso,
                None,
                "",
                "p99 within 20% of without",
                busy["p99_ms"] <= 1.2 * without,
            )
        )
    return rows


def rows(results: dict[str, Any]) -> list[Row]:
    """Every row of the table, from the results of commentstream and (maybe) Isso."""
    ours, peer = results[OURS], results.get(PEER)
    return (
        _throughput_rows(ours, peer)
        + _read_rows(ours, peer)
        + _size_rows(ours, peer)
        + [_visible_row(ours["command_to_visible"], peer)]
        + _replay_rows(ours["replay"], peer)
        + [_memory_row(ours["memory"], peer)]
        + _live_rows(ours.get("live"), peer)
    )


def _met_text(met: bool | None) -> str:
    return "—" if met is None else ("met" if met else "missed")


def _ratio_text(row: Row) -> str:
    if row.ratio is None:
        return "—"
    value = f"{row.ratio:,.0f}" if row.ratio >= 100 else f"{row.ratio:.3g}"
    return f"{value}{TIMES}" + ("" if row.ratio_of == "req/s" else f" ({row.ratio_of})")


def table(table_rows: list[Row]) -> str:
    """The rows as a markdown table."""
    lines = [
        "| measure | commentstream | Isso | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for row in table_rows:
        cells = [row.measure, row.commentstream, row.isso, _ratio_text(row), row.target]
        lines.append("| " + " | ".join([*cells, _met_text(row.met)]) + " |")
    return "\n".join(lines)
