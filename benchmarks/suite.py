"""The HTTP benchmark suite of issue 6: bounded load on loopback against the whole system.

    python -m benchmarks.suite                 (make bench-http)
    python -m benchmarks.suite --scale 0.05    (a quick run)

Prints a table and writes JSON to bench-results/ with the machine, versions and settings.
The load generator (httpx, asyncio) runs on the same 2 cores as the system under test.
"""

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import redis as sync_redis

from benchmarks.run import percentile
from tests.processes import Stack, start_stack, stop_stack

BODY_300 = ("A comment of three hundred characters, as the memory target asks. " * 5)[:300]


async def load(
    concurrency: int,
    total: int,
    request: Callable[[httpx.AsyncClient, int], Awaitable[int]],
    base_url: str,
) -> dict[str, Any]:
    """`total` requests from `concurrency` workers; throughput and latency percentiles."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = iter(range(total))

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            for n in counter:
                started = time.perf_counter()
                status = await request(client, n)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "concurrency": concurrency,
        "requests": total,
        "per_s": round(total / elapsed),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "statuses": statuses,
    }


async def fill_thread(base_url: str, thread: str, comments: int) -> str:
    """Post `comments` comments (concurrency 16); returns the last position."""
    positions: list[str] = []

    async def post(client: httpx.AsyncClient, n: int) -> int:
        response = await client.post(f"/api/v1/threads/{thread}/comments", json={"body": f"c{n}"})
        if response.status_code == 201:
            positions.append(response.json()["position"])
        return response.status_code

    await load(16, comments, post, base_url)
    return max(positions, key=lambda p: tuple(int(x) for x in p.split("-")))


def machine() -> dict[str, Any]:
    model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "versions": {
            name: version(name)
            for name in ("faststream", "redis", "fastapi", "uvicorn", "pydantic", "hiredis")
        },
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


async def measure(stack: Stack, scale: float) -> dict[str, Any]:
    base = stack.base_url
    n = lambda count: max(10, int(count * scale))  # noqa: E731
    results: dict[str, Any] = {}
    client = sync_redis.Redis.from_url(stack.server.url, decode_responses=True)
    before = client.info("memory")["used_memory"]

    async def post(http: httpx.AsyncClient, i: int) -> int:
        thread = f"bench-post-{i % 50}"
        response = await http.post(f"/api/v1/threads/{thread}/comments", json={"body": BODY_300})
        return response.status_code

    results["posts"] = [await load(c, n(2000), post, base) for c in (1, 16, 64)]
    comments = sum(r["statuses"].get(201, 0) for r in results["posts"])
    await asyncio.sleep(2)  # projections catch up before memory is read
    after = client.info("memory")["used_memory"]
    results["redis_bytes_per_comment"] = round((after - before) / max(comments, 1))

    target = (await fill_thread(base, "bench-likes", 10), "bench-likes")
    async with httpx.AsyncClient(base_url=base) as http:
        page = (
            await http.get(f"/api/v1/threads/{target[1]}", params={"min_position": target[0]})
        ).json()
        ids = [c["id"] for c in page["comments"]]
        tokens = [(await http.post("/api/v1/session")).json()["token"] for _ in range(64)]

    async def like(http: httpx.AsyncClient, i: int) -> int:
        response = await http.put(
            f"/api/v1/threads/bench-likes/comments/{ids[i % len(ids)]}/like",
            headers={"Authorization": f"Bearer {tokens[i % len(tokens)]}"},
        )
        return response.status_code

    results["likes"] = [await load(c, n(2000), like, base) for c in (1, 16, 64)]

    await fill_thread(base, "bench-1000", n(1000))
    results["thread_1000"] = {}
    for label, params in (("first_page", {"limit": 50}), ("largest_page", {"limit": 200})):

        async def read(http: httpx.AsyncClient, i: int, params: dict[str, int] = params) -> int:
            return (await http.get("/api/v1/threads/bench-1000", params=params)).status_code

        results["thread_1000"][label] = await load(16, n(1000), read, base)

    threads = [f"bench-post-{i}" for i in range(20)]

    async def counts(http: httpx.AsyncClient, i: int) -> int:
        return (
            await http.get("/api/v1/counts", params=[("thread", t) for t in threads])
        ).status_code

    results["counts_20_threads"] = await load(16, n(2000), counts, base)

    results["first_page_by_size"] = {}
    for size in (10, 1000, 3000):
        thread = f"bench-size-{size}"
        await fill_thread(base, thread, n(size) if size > 10 else 10)

        async def first(http: httpx.AsyncClient, i: int, thread: str = thread) -> int:
            return (await http.get(f"/api/v1/threads/{thread}", params={"limit": 50})).status_code

        results["first_page_by_size"][str(size)] = await load(1, n(300), first, base)
    client.close()
    return results


def table(results: dict[str, Any]) -> str:
    rows = ["| measure | concurrency | req/s | p50 ms | p99 ms |", "|---|---|---|---|---|"]
    for kind in ("posts", "likes"):
        for r in results[kind]:
            rows.append(
                f"| {kind} | {r['concurrency']} | {r['per_s']} | {r['p50_ms']} | {r['p99_ms']} |"
            )
    for label, r in results["thread_1000"].items():
        rows.append(
            f"| thread of 1,000: {label} | 16 | {r['per_s']} | {r['p50_ms']} | {r['p99_ms']} |"
        )
    r = results["counts_20_threads"]
    rows.append(f"| counts of 20 threads | 16 | {r['per_s']} | {r['p50_ms']} | {r['p99_ms']} |")
    for size, r in results["first_page_by_size"].items():
        rows.append(
            f"| first page, thread of {size} | 1 | {r['per_s']} | {r['p50_ms']} | {r['p99_ms']} |"
        )
    rows.append(
        f"| Redis bytes per comment (300-char body) | | {results['redis_bytes_per_comment']} | | |"
    )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="share of the full request counts")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        stack = start_stack(Path(scratch) / "redis", Path(scratch))
        try:
            results = asyncio.run(measure(stack, args.scale))
        finally:
            stop_stack(stack)
    report = {"machine": machine(), "scale": args.scale, "results": results}
    output = args.output or Path("bench-results") / f"http-{int(time.time())}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    print(table(results))
    print(f"written to {output}")


if __name__ == "__main__":
    main()
