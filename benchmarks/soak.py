"""Soak: mixed posts, likes and reads at a fixed concurrency against the whole system, on
loopback, for a bounded time. Reports requests, errors, memory of every process over time and
projection lag; fails on any 5xx, on memory that keeps growing after warm-up, or on lag that
does not stay bounded.

    python -m benchmarks.soak --minutes 10 --concurrency 32        (make soak)
"""

import argparse
import asyncio
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import redis as sync_redis

from projections.names import PROJECTION_NAMES
from storage.keys import PartitionKeys
from tests.processes import Stack, start_stack, stop_stack

PARTITIONS = 4
MAX_GROWTH = 0.30  # memory after warm-up may not grow by more than this share
MAX_LAG_MS = 5_000


async def client_loop(stack: Stack, deadline: float, counts: dict[str, int], seed: int) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as client:
        token = (await client.post("/api/v1/session")).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        known: list[tuple[str, str]] = []
        while time.monotonic() < deadline:
            thread = f"soak-{rng.randrange(50)}"
            roll = rng.random()
            if roll < 0.3 or not known:
                response = await client.post(
                    f"/api/v1/threads/{thread}/comments", json={"body": f"soak {rng.random()}"}
                )
                if response.status_code == 201:
                    known.append((thread, response.json()["id"]))
                kind = "post"
            elif roll < 0.5:
                where, comment = rng.choice(known)
                method = client.put if rng.random() < 0.7 else client.delete
                response = await method(
                    f"/api/v1/threads/{where}/comments/{comment}/like", headers=auth
                )
                kind = "like"
            else:
                response = await client.get(f"/api/v1/threads/{thread}", params={"sort": "top"})
                kind = "read"
            counts[kind] += 1
            counts[f"status_{response.status_code // 100}xx"] += 1


def memory_of(stack: Stack) -> dict[str, int]:
    sizes = {}
    for name, service in stack.services.items():
        if service.process is not None:
            sizes[name] = psutil.Process(service.process.pid).memory_info().rss
    if stack.server.process is not None:
        sizes["redis"] = psutil.Process(stack.server.process.pid).memory_info().rss
    return sizes


def lag_ms(client: sync_redis.Redis) -> int:
    """How far behind the end of the log the slowest projection is, in milliseconds."""
    worst = 0
    for p in range(PARTITIONS):
        keys = PartitionKeys(p)
        last = client.xrevrange(keys.events, count=1)
        if not last:
            continue
        end = int(last[0][0].split("-")[0])
        for name in PROJECTION_NAMES:
            active = int(client.get(keys.active_generation(name)) or 0)
            checkpoint = client.get(keys.projection(name, active).checkpoint) or "0-0"
            worst = max(worst, end - int(checkpoint.split("-")[0]))
    return worst


async def soak(
    stack: Stack, seconds: float, concurrency: int, sample_every: float
) -> dict[str, Any]:
    counts: dict[str, int] = {
        k: 0 for k in ("post", "like", "read", "status_2xx", "status_4xx", "status_5xx")
    }
    client = sync_redis.Redis.from_url(
        stack.server.url, decode_responses=True, encoding_errors="surrogateescape"
    )
    deadline = time.monotonic() + seconds
    loops = [
        asyncio.create_task(client_loop(stack, deadline, counts, n)) for n in range(concurrency)
    ]
    samples: list[dict[str, Any]] = []
    started = time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(sample_every)
        samples.append(
            {
                "t": round(time.monotonic() - started, 1),
                "rss": memory_of(stack),
                "lag_ms": lag_ms(client),
            }
        )
    await asyncio.gather(*loops)
    client.close()
    requests = counts["post"] + counts["like"] + counts["read"]
    warm = samples[len(samples) // 3]["rss"] if samples else {}
    final = samples[-1]["rss"] if samples else {}
    growth = {name: round(final[name] / warm[name] - 1, 3) for name in final if warm.get(name)}
    return {
        "seconds": seconds,
        "concurrency": concurrency,
        "requests": requests,
        "requests_per_s": round(requests / seconds),
        "counts": counts,
        "memory_growth_after_warmup": growth,
        "max_lag_ms": max((s["lag_ms"] for s in samples), default=0),
        "samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--output", type=Path, default=Path("soak-results.json"))
    args = parser.parse_args()
    seconds = args.minutes * 60
    with tempfile.TemporaryDirectory() as scratch:
        stack = start_stack(Path(scratch) / "redis", Path(scratch))
        try:
            report = asyncio.run(soak(stack, seconds, args.concurrency, max(2.0, seconds / 30)))
        finally:
            stop_stack(stack)
    args.output.write_text(json.dumps(report, indent=2))
    summary = {k: v for k, v in report.items() if k != "samples"}
    print(json.dumps(summary, indent=2))
    problems = []
    if report["counts"]["status_5xx"]:
        problems.append(f"{report['counts']['status_5xx']} responses were 5xx")
    if seconds >= 120:  # memory and lag figures mean something only on a real soak
        # Redis grows with the data (the log is never trimmed); the services must not.
        grown = {
            k: v
            for k, v in report["memory_growth_after_warmup"].items()
            if k != "redis" and v > MAX_GROWTH
        }
        if grown:
            problems.append(f"memory kept growing after warm-up: {grown}")
        if report["max_lag_ms"] > MAX_LAG_MS:
            problems.append(f"projection lag reached {report['max_lag_ms']} ms")
    if problems:
        raise SystemExit("soak failed: " + "; ".join(problems))


if __name__ == "__main__":
    main()
