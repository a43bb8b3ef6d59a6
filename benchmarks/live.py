"""Live readers on one gateway process (issue 13): open streams on one thread and spread over 100
threads, post, and time until every reader has the new comment.

    python -m benchmarks.live --readers 100 1000 10000          (make bench-live)

Per size it reports the delivery time (p50, p99, max, from the POST being sent to a reader
having the comment), the Redis connections the gateway holds, its memory per reader, and
new-comment throughput and p99 (concurrency 16, a few seconds) with the readers open against
the same without them. Readers are raw sockets on one uvloop event loop, on the same cores as
the stack; the file-descriptor limit is raised to its hard limit first. JSON on stdout.
"""

import argparse
import asyncio
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import redis as sync_redis
import uvloop

from tests.processes import Stack, start_stack, stop_stack

THREADS_SPREAD = 100
OPEN_AT_ONCE = 200
WRITE_CONCURRENCY = 16


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


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def gateway_redis_connections(stack: Stack) -> int:
    """Connections the server has from the gateway process (by its sockets' local ports)."""
    gateway = stack.services["gateway"].process
    assert gateway is not None
    ports = {c.laddr.port for c in psutil.Process(gateway.pid).net_connections("tcp") if c.raddr}
    clients = sync_redis.Redis.from_url(stack.server.url).client_list()
    return sum(int(client["addr"].rsplit(":", 1)[1]) in ports for client in clients)


def gateway_rss(stack: Stack) -> int:
    gateway = stack.services["gateway"].process
    assert gateway is not None
    return int(psutil.Process(gateway.pid).memory_info().rss)


async def writes(base_url: str, thread: str, seconds: float) -> dict[str, float]:
    """New comments at WRITE_CONCURRENCY for `seconds`: rate and latencies."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def one_writer(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await client.post(
                f"/api/v1/threads/{thread}/comments", json={"body": "load"}
            )
            if response.status_code == 201:
                latencies.append(time.perf_counter() - started)

    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        await asyncio.gather(*(one_writer(client) for _ in range(WRITE_CONCURRENCY)))
    return {
        "per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
    }


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
    await _until_streams_closed(stack)  # the next round's "without readers" on a quiet gateway
    return {
        "readers": readers,
        "threads": len(threads),
        "delivered": len(delays),
        "delivery_ms": {
            "p50": round(statistics.median(delays) * 1000, 1),
            "p99": round(percentile(delays, 0.99) * 1000, 1),
            "max": round(max(delays) * 1000, 1),
        },
        "gateway_redis_connections": {"before": connections_before, "with_readers": connections},
        "gateway_bytes_per_reader": round((rss - rss_before) / readers),
        "writes_without_readers": idle,
        "writes_with_readers": busy,
    }


async def _until_streams_closed(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as client:
        for _ in range(600):
            metrics = (await client.get("/metrics")).text
            if "\ncommentstream_live_streams 0\n" in metrics:
                return
            await asyncio.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readers", type=int, nargs="+", default=[100, 1000, 10_000])
    parser.add_argument("--write-seconds", type=float, default=4.0)
    parser.add_argument(
        "--layouts", nargs="+", choices=["one", "spread"], default=["one", "spread"]
    )
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the gateway inherits it
    most = str(max(args.readers))
    with tempfile.TemporaryDirectory() as scratch:
        stack = start_stack(
            Path(scratch) / "redis",
            Path(scratch),
            COMMENTSTREAM_LIVE_STREAMS_PER_PROCESS=most,
            COMMENTSTREAM_LIVE_STREAMS_PER_ADDRESS=most,
        )
        try:
            results = []
            for number, readers in enumerate(args.readers):
                for spread in (layout == "spread" for layout in args.layouts):
                    result = uvloop.run(
                        measure(stack, readers, spread, number * 2 + spread, args.write_seconds)
                    )
                    print(json.dumps(result), flush=True)
                    results.append(result)
        finally:
            stop_stack(stack)
    if args.output is not None:
        args.output.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
