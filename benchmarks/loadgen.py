"""A small, fast HTTP/1.1 keep-alive load generator on asyncio streams (run it on uvloop).

    python -m benchmarks.loadgen           (this generator against httpx, on a trivial server)

One connection per worker; each request's bytes are built by hand; a response is read by its
status line, headers, and Content-Length or chunked body. A worker reconnects when the server
answers `Connection: close` or closes, and resends once when a reused connection turns out closed
before any byte of the answer came (the keep-alive race). Failed exchanges count as status 0 and
are left out of the latencies.

Closed loop by default: each worker sends its next request as soon as the last one is answered.
With `rate`, open loop: request n is due at start + n / rate, and its latency runs from when it
was due, so a stall of the server is not hidden by the generator waiting (coordinated omission).
"""

import argparse
import asyncio
import gc
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

import orjson

Header = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Request:
    """One request: method, target (path and query, already encoded), headers and body."""

    method: str
    target: str
    body: bytes = b""
    headers: tuple[Header, ...] = ()

    def encode(self, host: str) -> bytes:
        """The request's bytes on the wire."""
        lines = [f"{self.method} {self.target} HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


def json_request(
    method: str, target: str, payload: Any, headers: tuple[Header, ...] = ()
) -> Request:
    """A request with a JSON body."""
    return Request(
        method, target, orjson.dumps(payload), (("Content-Type", "application/json"), *headers)
    )


@dataclass(slots=True)
class Response:
    """A response: status, headers (lower-case names) and the whole body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


class ServerClosed(Exception):
    """The server closed the connection before any byte of an answer."""


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    """A chunked body, trailers skipped."""
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass
            return b"".join(parts)
        parts.append((await reader.readexactly(size + 2))[:-2])


def _parse_head(head: bytes) -> tuple[bytes, int, dict[str, str]]:
    """(HTTP version, status, headers) from a response head."""
    lines = head.decode("latin-1").split("\r\n")
    version, status = lines[0].split(" ", 2)[:2]
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return version.encode(), int(status), headers


def _keeps_alive(version: bytes, headers: dict[str, str]) -> bool:
    """Whether the connection may carry another request after this response."""
    connection = headers.get("connection", "").lower()
    if version == b"HTTP/1.0":
        return connection == "keep-alive"
    return connection != "close"


async def read_response(reader: asyncio.StreamReader) -> tuple[Response, bool]:
    """One response and whether the connection stays open after it."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if not error.partial:
            raise ServerClosed from error
        raise
    version, status, headers = _parse_head(head[:-4])
    keep_alive = _keeps_alive(version, headers)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif status in (204, 304) or 100 <= status < 200:
        body = b""
    else:
        body, keep_alive = await reader.read(), False
    return Response(status, headers, body), keep_alive


class Connection:
    """One keep-alive connection to host:port; reconnects when needed."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._used = False

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            self._used = False
        return self._reader, self._writer

    async def exchange(self, data: bytes) -> Response:
        """Send one request's bytes, read its response; resend once on a keep-alive race."""
        reused = self._used
        try:
            return await self._exchange_once(data)
        except (ServerClosed, ConnectionResetError, BrokenPipeError):
            self.close()
            if not reused:
                raise
        return await self._exchange_once(data)

    async def _exchange_once(self, data: bytes) -> Response:
        reader, writer = await self._open()
        writer.write(data)
        self._used = True
        response, keep_alive = await read_response(reader)
        if not keep_alive:
            self.close()
        return response

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


MakeRequest = Callable[[int], Request]
OnResponse = Callable[[int, Response, float], None]


@dataclass
class _Run:
    """What the workers of one `load` call share."""

    total: int
    make_request: MakeRequest
    on_response: OnResponse | None
    rate: float | None
    until: float | None
    started: float = field(default_factory=time.perf_counter)
    next_index: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    behind: float = 0.0

    def take(self) -> int | None:
        """The next request's index, or None when the run is over."""
        if self.next_index >= self.total:
            return None
        if self.until is not None and time.perf_counter() >= self.until:
            return None
        self.next_index += 1
        return self.next_index - 1

    def record(self, status: int, latency: float | None) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if latency is not None:
            self.latencies.append(latency)


async def _send_when_due(run: _Run, n: int) -> float:
    """Wait for request n's slot (open loop); the time it counts from."""
    if run.rate is None:
        return time.perf_counter()
    due = run.started + n / run.rate
    now = time.perf_counter()
    if due > now:
        await asyncio.sleep(due - now)
        return due
    run.behind = max(run.behind, now - due)
    return due


async def _worker(run: _Run, host: str, port: int) -> None:
    connection = Connection(host, port)
    host_header = f"{host}:{port}"
    try:
        while (n := run.take()) is not None:
            data = run.make_request(n).encode(host_header)
            sent = await _send_when_due(run, n)
            try:
                response = await connection.exchange(data)
            except (
                OSError,
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
                ServerClosed,
                ValueError,
            ):
                connection.close()
                run.record(0, None)
                continue
            run.record(response.status, time.perf_counter() - sent)
            if run.on_response is not None:
                run.on_response(n, response, sent)
    finally:
        connection.close()


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _summary(run: _Run, concurrency: int, elapsed: float) -> dict[str, Any]:
    done = sum(run.statuses.values())
    latencies = run.latencies or [0.0]
    summary: dict[str, Any] = {
        "concurrency": concurrency,
        "requests": done,
        "seconds": round(elapsed, 3),
        "per_s": round(done / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies) * 1000, 2),
        "statuses": dict(sorted(run.statuses.items())),
    }
    if run.rate is not None:
        summary |= {"rate_per_s": run.rate, "max_behind_ms": round(run.behind * 1000, 2)}
    return summary


async def load(
    concurrency: int,
    total: int,
    make_request: MakeRequest,
    *,
    base_url: str,
    on_response: OnResponse | None = None,
    rate: float | None = None,
    until: float | None = None,
) -> dict[str, Any]:
    """`total` requests from `concurrency` connections; throughput and latency percentiles.

    `make_request(n)` builds request n; `on_response(n, response, sent)` sees each answer.
    `rate` (requests/s) makes it open loop; `until` (a perf_counter time) stops issuing early.
    """
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    run = _Run(total, make_request, on_response, rate, until)
    with no_collector_pauses():
        await asyncio.gather(*(_worker(run, host, port) for _ in range(concurrency)))
    return _summary(run, concurrency, time.perf_counter() - run.started)


@contextmanager
def no_collector_pauses() -> Iterator[None]:
    """The cycle collector off while requests are timed, as `timeit` does: a full collection
    of this process took 30 to 50 ms, which every request in flight (and, in command -> visible,
    the watcher's polls) would have been charged for."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# A trivial server to measure the generator itself (and httpx, for comparison).
CANNED = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


class _Canned(asyncio.Protocol):
    """Answers every request head with the same tiny response."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            _, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            self.transport.write(CANNED)


async def _serve(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(_Canned, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


async def _httpx_load(concurrency: int, total: int, base_url: str) -> dict[str, Any]:
    """The same closed loop with one httpx.AsyncClient per worker (the suite's old way)."""
    import httpx

    latencies: list[float] = []
    counter = iter(range(total))

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=base_url) as client:
            for _ in counter:
                started = time.perf_counter()
                await client.get("/")
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "per_s": round(total / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
    }


async def _compare(base_url: str, total: int) -> dict[str, Any]:
    ours = await load(16, total, lambda _: Request("GET", "/"), base_url=base_url)
    return {"loadgen": ours, "httpx": await _httpx_load(16, total, base_url)}


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Block until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def main() -> None:
    """Serve (`--serve PORT`), or compare this generator with httpx at concurrency 16."""
    import uvloop

    from services.embedded import free_port

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args()
    if args.serve is not None:
        uvloop.run(_serve(args.serve))
        return
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "benchmarks.loadgen", "--serve", str(port)])
    try:
        _wait_for_port(port)
        result = uvloop.run(_compare(f"http://127.0.0.1:{port}", args.requests))
    finally:
        server.terminate()
        server.wait()
    for name, figures in result.items():
        print(
            f"{name:8} c16: {figures['per_s']:>9}/s  p50 {figures['p50_ms']} ms"
            f"  p99 {figures['p99_ms']} ms"
        )


if __name__ == "__main__":
    main()
