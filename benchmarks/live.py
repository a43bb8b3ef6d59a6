"""Live readers on one gateway process (issue 13): open streams on one thread and spread over 100
threads, post, and time until every reader has the new comment.

    python -m benchmarks.live --readers 100 1000 10000          (make bench-live)

`make bench` runs it too, as the suite's "live" lines (benchmarks/suite.py, sizes scaled).
Per size it reports the delivery time (p50, p99, max, from the POST being sent to a reader
having the comment), the Redis connections the gateway holds, its memory per reader, and
new-comment throughput and p99 (concurrency 16, three windows of a few seconds, the median
one, from benchmarks/loadgen.py as the suite's write lines) with the readers open against the
same without them, before the readers open and after they have closed. Readers are raw
sockets on one uvloop event loop, on the same cores as the stack, frozen out of this process's
own garbage collector while they are timed; the file-descriptor limit is raised to its hard
limit first. JSON on stdout.
"""

import argparse
import asyncio
import gc
import json
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil
import redis as sync_redis
import uvloop

from benchmarks.loadgen import Request, json_request, load, percentile
from benchmarks.phases import LIVE_SIZES
from tests.processes import Stack, start_stack, stop_stack

LAYOUTS = ("one", "spread")
THREADS_SPREAD = 100
OPEN_AT_ONCE = 200
WRITE_CONCURRENCY = 16
WRITE_WINDOWS = 3


class Reader:
    """One live stream as raw HTTP/1.1, noting when a marker first arrives."""

    def __init__(self, thread: str) -> None:
        self.thread = thread
        self.marker = f"mark-{thread}".encode()
        self.seen = b""
        self.arrived: float | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self, host: str, port: int) -> None:
        reader, self.writer = await asyncio.open_connection(host, port)
        request = f"GET /api/v1/threads/{self.thread}/live HTTP/1.1\r\nHost: {host}\r\n\r\n"
        self.writer.write(request.encode())
        await self.writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"stream refused: {head[:200]!r}")
        self._task = asyncio.create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while chunk := await reader.read(65536):
            if self.arrived is None:  # only its own thread's marker: the client stays cheap
                self.seen = self.seen[-200:] + chunk
                if self.marker in self.seen:
                    self.arrived = time.perf_counter()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self._task.cancel()


def gateway_redis_connections(stack: Stack) -> int:
    """Connections the server has from the gateway (its clients are named `gateway`; over the
    Unix socket they cannot be told apart by address)."""
    clients = sync_redis.Redis.from_url(stack.server.url).client_list()
    return sum(client.get("name") == "gateway" for client in clients)


def gateway_rss(stack: Stack) -> int:
    gateway = stack.services["gateway"].process
    assert gateway is not None
    return int(psutil.Process(gateway.pid).memory_info().rss)


async def writes(base_url: str, thread: str, seconds: float) -> dict[str, Any]:
    """New comments at WRITE_CONCURRENCY in WRITE_WINDOWS windows of `seconds` (benchmarks/
    loadgen.py, as the suite's write lines): the window of the median p99, with every window's
    p99. One window's p99 moved by a third between windows of the same system here."""

    def new_comment(_: int) -> Request:
        return json_request("POST", f"/api/v1/threads/{thread}/comments", {"body": "load"})

    windows = []
    for _ in range(WRITE_WINDOWS):
        until = time.perf_counter() + seconds
        windows.append(
            await load(WRITE_CONCURRENCY, 10**9, new_comment, base_url=base_url, until=until)
        )
    windows.sort(key=lambda window: float(window["p99_ms"]))
    return windows[len(windows) // 2] | {"p99_ms_windows": [w["p99_ms"] for w in windows]}


async def measure(
    stack: Stack, readers: int, spread: bool, round_number: int, write_seconds: float
) -> dict[str, Any]:
    host, port = stack.base_url.removeprefix("http://").split(":")
    threads = [f"live-{round_number}-{n}" for n in range(THREADS_SPREAD if spread else 1)]
    idle = await writes(stack.base_url, f"writes-{round_number}-idle", write_seconds)
    connections_before, rss_before = gateway_redis_connections(stack), gateway_rss(stack)
    open_readers = [Reader(threads[n % len(threads)]) for n in range(readers)]
    for start in range(0, readers, OPEN_AT_ONCE):
        batch = open_readers[start : start + OPEN_AT_ONCE]
        await asyncio.gather(*(r.open(host, int(port)) for r in batch))
    # This process's own collector must not walk its thousands of readers while it times them.
    gc.collect()
    gc.freeze()
    await asyncio.sleep(1)
    connections, rss = gateway_redis_connections(stack), gateway_rss(stack)
    sent: dict[str, float] = {}
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as client:
        for thread in threads:
            marker = f"mark-{thread}"
            sent[thread] = time.perf_counter()
            response = await client.post(
                f"/api/v1/threads/{thread}/comments", json={"body": marker}
            )
            response.raise_for_status()
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline and any(r.arrived is None for r in open_readers):
        await asyncio.sleep(0.05)
    delays = [r.arrived - sent[r.thread] for r in open_readers if r.arrived is not None]
    busy = await writes(stack.base_url, f"writes-{round_number}-busy", write_seconds)
    for reader in open_readers:
        reader.close()
    gc.unfreeze()
    await _until_streams_closed(stack)
    # Again without readers: the machine drifts, so "with" is judged against both sides of it.
    idle_after = await writes(stack.base_url, f"writes-{round_number}-after", write_seconds)
    return {
        "readers": readers,
        "threads": len(threads),
        "delivered": len(delays),
        "delivery_ms": {
            "first": round(min(delays) * 1000, 1),
            "p50": round(statistics.median(delays) * 1000, 1),
            "p99": round(percentile(delays, 0.99) * 1000, 1),
            "max": round(max(delays) * 1000, 1),
        },
        "gateway_redis_connections": {"before": connections_before, "with_readers": connections},
        "gateway_bytes_per_reader": round((rss - rss_before) / readers),
        "writes_without_readers": idle,
        "writes_with_readers": busy,
        "writes_without_readers_after": idle_after,
    }


async def _until_streams_closed(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as client:
        for _ in range(600):
            metrics = (await client.get("/metrics")).text
            if "\ncommentstream_live_streams 0\n" in metrics:
                return
            await asyncio.sleep(0.1)


def run(
    sizes: list[int],
    layouts: tuple[str, ...] = LAYOUTS,
    write_seconds: float = 4.0,
    progress: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Every size in every layout ("one" thread, "spread" over 100) on one stack of its own."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the gateway inherits it
    most = str(max(sizes))
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        stack = start_stack(
            Path(scratch) / "redis",
            Path(scratch),
            COMMENTSTREAM_LIVE_STREAMS_PER_PROCESS=most,
            COMMENTSTREAM_LIVE_STREAMS_PER_ADDRESS=most,
        )
        try:
            for number, readers in enumerate(sizes):
                for spread in (layout == "spread" for layout in layouts):
                    result = uvloop.run(
                        measure(stack, readers, spread, number * 2 + spread, write_seconds)
                    )
                    progress(json.dumps(result))
                    results.append(result)
        finally:
            stop_stack(stack)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readers", type=int, nargs="+", default=list(LIVE_SIZES))
    parser.add_argument("--write-seconds", type=float, default=4.0)
    parser.add_argument("--layouts", nargs="+", choices=LAYOUTS, default=list(LAYOUTS))
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    results = run(args.readers, tuple(args.layouts), args.write_seconds)
    if args.output is not None:
        args.output.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
