"""The benchmark suite of issue 6: bounded load on loopback, commentstream and, with --peer isso,
Isso side by side in the same run.

    python -m benchmarks.suite                        (make bench)
    python -m benchmarks.suite --peer isso            (make bench-peer)
    python -m benchmarks.suite --scale 0.02           (make bench-quick)

Prints one markdown table (measure | commentstream | Isso | ratio | target | met) and writes
JSON with the machine, versions, settings and every result to bench-results/. Requests come from
benchmarks/loadgen.py (raw HTTP/1.1 keep-alive on uvloop), on the same cores as the systems.
See docs/benchmarks.md for what each line measures and how.
"""

import argparse
import json
import sys
import tempfile
import time
import traceback
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvloop

from benchmarks import live, phases, report
from benchmarks.ours import Commentstream, command_to_visible, measure_replay, running_stack
from benchmarks.peer_isso import IssoServer, IssoSubject, ensure_isso_venv, isso_version
from benchmarks.phases import Plan
from projections.names import PROJECTION_NAMES
from services.settings import Settings
from tests.processes import Stack

# The services' settings worth recording (those the running version has).
RECORDED_SETTINGS = {
    "partitions",
    "batch_size",
    "batch_linger_ms",
    "write_timeout_seconds",
    "read_wait_seconds",
    "gateway_workers",
}


def say(message: str) -> None:
    """Progress on stderr (the table goes to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def failure(measure: str, error: Exception) -> dict[str, str]:
    """A measure that failed, for the report (the traceback goes to stderr)."""
    say(f"{measure} failed:\n{traceback.format_exc()}")
    return {"error": f"{type(error).__name__}: {error}"}


async def _measure_ours(stack: Stack, plan: Plan) -> tuple[dict[str, Any], str]:
    """Every measure on a running stack; the results and the server's version."""
    subject = Commentstream(stack, Settings().partitions)
    try:
        results = await phases.common(subject, plan, progress=say)
        rate = max(1.0, results["new_comments"]["16"]["per_s"] / 2)
        say(f"command -> visible at {rate:.0f}/s for {plan.visible_seconds:.0f} s")
        try:
            results["command_to_visible"] = await command_to_visible(
                subject, rate, plan.visible_seconds
            )
        except Exception as error:  # a late failure must not lose the figures already taken
            results["command_to_visible"] = failure("command -> visible", error)
        return results, await subject.server_version()
    finally:
        await subject.close()


def run_ours(plan: Plan, scratch: Path) -> tuple[dict[str, Any], str]:
    """commentstream's measures: the whole stack, then replay on a server of its own."""
    say("commentstream: starting the stack")
    with running_stack(scratch) as stack:
        results, server = uvloop.run(_measure_ours(stack, plan))
    say(f"replay of {plan.replay_events:,} events")
    try:
        results["replay"] = measure_replay(plan.replay_events, scratch)
    except Exception as error:  # as above
        results["replay"] = failure("replay", error)
    say(f"live readers: {', '.join(map(str, plan.live_sizes))} (a stack of their own)")
    try:
        runs = live.run(plan.live_sizes, write_seconds=plan.live_write_seconds, progress=say)
        results["live"] = {"runs": runs}
    except Exception as error:  # as above
        results["live"] = failure("live readers", error)
    return results, server


def run_isso(plan: Plan) -> tuple[dict[str, Any], str]:
    """Isso's measures (installed into .bench-peer/ on first use); the results and its version."""
    say("isso: installing (once) and starting")
    isso = ensure_isso_venv()
    with IssoServer(isso) as server:
        subject = IssoSubject(server)
        results = uvloop.run(phases.common(subject, plan, progress=say))
    return results, isso_version(isso)


def settings(plan: Plan, peer: str | None) -> dict[str, Any]:
    """What the run was configured with."""
    defaults = Settings()
    return {
        "peer": peer,
        "plan": plan.describe(),
        "commentstream": defaults.model_dump(include=RECORDED_SETTINGS)
        | {
            "processes": (
                f"gateway, processor (signing the log), {len(PROJECTION_NAMES)} projectors, "
                "embedded Valkey (AOF, fsync everysec)"
            ),
            "rate_limits": "off for the default site",
        },
        "isso": {"server": "isso run (werkzeug, a thread per request)", "guard": "disabled"}
        if peer
        else None,
        "loadgen": "benchmarks/loadgen.py: HTTP/1.1 keep-alive, one connection per worker",
    }


def output_path(requested: Path | None, peer: str | None) -> Path:
    """--output, or bench-results/suite[-isso]-<UTC timestamp>.json."""
    if requested is not None:
        return requested
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    name = "suite" + (f"-{peer}" if peer else "")
    return report.ROOT / "bench-results" / f"{name}-{stamp}.json"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="share of the full sizes")
    parser.add_argument("--peer", choices=["isso"], default=None, help="measure Isso too")
    parser.add_argument("--output", type=Path, default=None, help="where to write the JSON")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    plan = Plan(args.scale)
    started = time.perf_counter()
    results: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    versions: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="commentstream-bench-") as scratch:
        results[report.OURS], versions["valkey"] = run_ours(plan, Path(scratch))
    seconds[report.OURS] = round(time.perf_counter() - started, 1)
    if args.peer == "isso":
        results[report.PEER], versions["isso"] = run_isso(plan)
        seconds[report.PEER] = round(time.perf_counter() - started - seconds[report.OURS], 1)
    rows = report.rows(results)
    document: dict[str, Any] = {
        "machine": report.machine(versions),
        "settings": settings(plan, args.peer),
        "seconds": seconds | {"total": round(time.perf_counter() - started, 1)},
        "results": results,
        "rows": [asdict(row) for row in rows],
        "table": report.table(rows),
    }
    output = output_path(args.output, args.peer)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=2, ensure_ascii=False))
    print(document["table"])
    print(f"\nwritten to {output} ({document['seconds']['total']:.0f} s)")
    failed = [name for name, result in results[report.OURS].items() if "error" in result]
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)} (see above)")


if __name__ == "__main__":
    main()
