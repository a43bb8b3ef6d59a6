"""commentstream as a benchmark subject: the stack, its requests, and the measures only it has
(command -> visible lag, Redis bytes per comment, replay into a fresh read model)."""

import asyncio
import bisect
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

import hiredis
import uvloop
from redis.asyncio import Redis, RedisCluster

from benchmarks import audit
from benchmarks.cpu import (
    cpu_seconds,
    machine_busy_and_total_ticks,
    own_cpu_seconds,
    own_run_queue_wait_seconds,
    run_queue_wait_seconds,
)
from benchmarks.loadgen import (
    Request,
    Response,
    json_request,
    load,
    no_collector_pauses,
    percentile,
)
from benchmarks.subjects import BODY_300
from projections.names import READER_PROJECTIONS
from projections.registry import PROJECTIONS
from services.embedded import EmbeddedRedis
from services.embedded_cluster import EmbeddedCluster
from services.operations.parallel_build import Workers
from services.operations.replay import build_generation
from services.processor.signer import create_signing_key
from services.settings import Settings
from storage.connection import Store, connect, is_cluster
from storage.key_vault import AuthorKeyVault
from storage.keys import PartitionKeys, partition_of
from storage.log_reader import close_client
from storage.many_keys import get_each
from storage.stream_entries import parse_stream_id
from tests.processes import Stack, start_services, stop_stack

SITE = "default"

SETTLE_TIMEOUT_S = 300.0
PERSISTENCE_BUSY = ("aof_rewrite_in_progress", "rdb_bgsave_in_progress", "aof_rewrite_scheduled")
Position = tuple[int, int]


def parse_position(entry_id: str | None) -> Position:
    """A stream entry id as (ms, seq); (0, 0) for none (storage/stream_entries.py)."""
    return parse_stream_id(entry_id) if entry_id else (0, 0)


def stack_environment() -> dict[str, str]:
    """The services' settings: production defaults, without rate limits."""
    defaults = Settings()
    return {
        "COMMENTSTREAM_SECRET": "bench-secret",
        "COMMENTSTREAM_PARTITIONS": str(defaults.partitions),
        "COMMENTSTREAM_BATCH_SIZE": str(defaults.batch_size),
        "COMMENTSTREAM_WRITE_TIMEOUT_SECONDS": str(defaults.write_timeout_seconds),
        "COMMENTSTREAM_POSTS_PER_MINUTE_PER_IP": "0",
        "COMMENTSTREAM_POSTS_PER_MINUTE_PER_IDENTITY": "0",
        "COMMENTSTREAM_LIKES_PER_MINUTE_PER_IDENTITY": "0",
        "COMMENTSTREAM_MIN_SECONDS_TO_SUBMIT": "0",
    }


@contextmanager
def running_stack(scratch: Path) -> Iterator[Stack]:
    """Embedded server, processor (signing the log, as under `commentstream up`), every
    projector and the gateway, for a `with` block; all stopped after it."""
    signing_key = scratch / "signing-key.pem"
    create_signing_key(signing_key)
    environment = stack_environment() | {"COMMENTSTREAM_SIGNING_KEY_FILE": str(signing_key)}
    stack = start_services(EmbeddedRedis(scratch / "redis").start(), scratch, environment)
    try:
        yield stack
    finally:
        stop_stack(stack)


async def checkpoint_keys(redis: Store, partitions: int) -> list[list[str]]:
    """Per partition, the checkpoint keys of both projections' active generations."""
    keys = []
    for p in range(partitions):
        partition = PartitionKeys(p)
        names = [partition.active_generation(name) for name in READER_PROJECTIONS]
        generations = [int(g or 0) for g in await get_each(redis, names)]
        keys.append(
            [
                partition.projection(name, generation).checkpoint
                for name, generation in zip(READER_PROJECTIONS, generations, strict=True)
            ]
        )
    return keys


async def visible_positions(redis: Store, keys: list[list[str]]) -> list[Position]:
    """Per partition, the position up to which both read models have folded the log."""
    flat = await get_each(redis, [key for partition in keys for key in partition])
    per = len(READER_PROJECTIONS)
    return [
        min(parse_position(value) for value in flat[p * per : (p + 1) * per])
        for p in range(len(keys))
    ]


class Commentstream:
    """commentstream as a benchmark subject (benchmarks/subjects.py)."""

    name = "commentstream"

    def __init__(self, stack: Stack, partitions: int) -> None:
        self.base_url = stack.base_url
        self.stack = stack
        self.partitions = partitions
        self.redis = connect(stack.address)
        self.tokens: list[str] = []

    def thread_partition(self, thread: str) -> int:
        return partition_of(SITE, thread, self.partitions)

    def new_comment(self, thread: str, body: str) -> Request:
        payload = {"body": body, "title": f"Thread {thread}"}
        return json_request("POST", f"/api/v1/threads/{thread}/comments", payload)

    def comment_id(self, response: Response) -> str:
        return str(response.json()["id"])

    async def prepare_likers(self, count: int) -> None:
        """Anonymous sessions, one token per liker (POST /api/v1/session)."""
        tokens: dict[int, str] = {}

        def keep(n: int, response: Response, _: float) -> None:
            if response.status == 201:
                tokens[n] = response.json()["token"]

        session = Request("POST", "/api/v1/session")
        await load(16, count, lambda _: session, base_url=self.base_url, on_response=keep)
        if len(tokens) != count:
            raise RuntimeError(f"only {len(tokens)} of {count} sessions were created")
        self.tokens = [tokens[n] for n in range(count)]

    def like(self, thread: str, comment_id: str, liker: int) -> Request:
        auth = (("Authorization", f"Bearer {self.tokens[liker]}"),)
        return Request("PUT", f"/api/v1/threads/{thread}/comments/{comment_id}/like", headers=auth)

    def whole_thread(self, thread: str) -> Request:
        return Request("GET", f"/api/v1/threads/{thread}?limit=1000")

    def first_page(self, thread: str) -> Request:
        return Request("GET", f"/api/v1/threads/{thread}?limit=50")

    def counts(self, threads: Sequence[str]) -> Request:
        return Request("GET", "/api/v1/counts?" + urlencode([("thread", t) for t in threads]))

    async def log_ends(self) -> list[Position]:
        """Per partition, the position of the log's last entry."""
        ends = []
        for p in range(self.partitions):
            last = await self.redis.xrevrange(PartitionKeys(p).events, count=1)
            ends.append(parse_position(last[0][0]) if last else (0, 0))
        return ends

    async def settle(self) -> None:
        """Wait until both read models of every partition have folded the whole log, and the
        server has no AOF rewrite or snapshot running (a fork that shares the two cores: after
        a big fill it would otherwise land in the middle of the next measure)."""
        ends = await self.log_ends()
        keys = await checkpoint_keys(self.redis, self.partitions)
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while time.monotonic() < deadline:
            visible = await visible_positions(self.redis, keys)
            if all(seen >= end for seen, end in zip(visible, ends, strict=True)):
                break
            await asyncio.sleep(0.01)
        else:
            raise RuntimeError(f"the projections did not catch up in {SETTLE_TIMEOUT_S:.0f} s")
        while time.monotonic() < deadline:
            if not any(
                info.get(busy)
                for info in await self._infos("persistence")
                for busy in PERSISTENCE_BUSY
            ):
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"the server was still rewriting after {SETTLE_TIMEOUT_S:.0f} s")

    async def _infos(self, section: str) -> list[dict[str, Any]]:
        """INFO `section` of the server, or of every master of a cluster."""
        if is_cluster(self.redis):
            by_node = await self.redis.info(section, target_nodes=RedisCluster.PRIMARIES)
            return list(by_node.values()) if len(self.redis.get_primaries()) > 1 else [by_node]
        return [await self.redis.info(section)]

    async def memory_bytes(self) -> int:
        """Redis INFO memory used_memory (of every master, on a cluster)."""
        return sum(int(info["used_memory"]) for info in await self._infos("memory"))

    def process_ids(self) -> dict[str, int]:
        """The server (or each node of a cluster, `redis-PORT`) and every service (the gateway's
        workers are their children)."""
        store = self.stack.store
        nodes = store.nodes if isinstance(store, EmbeddedCluster) else [store]
        servers = {
            f"redis-{node.port}" if len(nodes) > 1 else "redis": node.process for node in nodes
        }
        processes = servers | {
            name: service.process for name, service in self.stack.services.items()
        }
        return {name: p.pid for name, p in processes.items() if p is not None}

    async def server_version(self) -> str:
        info = (await self._infos("server"))[0]
        return str(info.get("valkey_version") or info.get("redis_version") or "unknown")

    async def close(self) -> None:
        await close_client(self.redis)


class _RepeatedMget(asyncio.Protocol):
    """One connection sending the same MGET again and again, its replies parsed by hiredis.
    The watcher polls a thousand times a second on the cores it measures: through redis-py a
    poll cost about 220 us of CPU, which the system under test lost; this costs about 85."""

    def __init__(self, keys: list[str]) -> None:
        parts = [b"MGET", *(key.encode() for key in keys)]
        self.request = b"*%d\r\n" % len(parts) + b"".join(
            b"$%d\r\n%s\r\n" % (len(part), part) for part in parts
        )
        self.reader = hiredis.Reader()
        self.transport: asyncio.Transport | None = None
        self.reply: asyncio.Future[list[bytes | None]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        reply = self.reader.gets()
        if reply is not False and self.reply is not None and not self.reply.done():
            self.reply.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.reply is not None and not self.reply.done():
            self.reply.set_exception(exc or ConnectionError("the server closed the connection"))

    async def get(self) -> list[bytes | None]:
        assert self.transport is not None
        self.reply = asyncio.get_running_loop().create_future()
        self.transport.write(self.request)
        return await self.reply


@dataclass
class Watcher:
    """Polls checkpoints every `interval` s; per projection and partition, when each advance
    was first seen."""

    redis: Redis
    partitions: int
    interval: float = 0.001
    # timelines[projection index][partition]: (position, when first seen), rising
    timelines: list[list[list[tuple[Position, float]]]] = field(default_factory=list)
    polls: int = 0
    seconds: float = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set."""
        keys = await checkpoint_keys(self.redis, self.partitions)
        per = len(READER_PROJECTIONS)
        server = self.redis.connection_pool.connection_kwargs
        _, mget = await asyncio.get_running_loop().create_connection(
            lambda: _RepeatedMget([key for partition in keys for key in partition]),
            server.get("host", "127.0.0.1"),
            server.get("port", 6379),
        )
        self.timelines = [[[] for _ in range(self.partitions)] for _ in READER_PROJECTIONS]
        started = next_poll = time.perf_counter()
        last: list[bytes | None] = []
        try:
            while not stop.is_set():
                flat = await mget.get()
                now = time.perf_counter()
                if flat != last:
                    last = flat
                    self._note(flat, per, now)
                self.polls += 1
                # A fixed schedule: the time a poll takes does not stretch the interval.
                next_poll = max(next_poll + self.interval, now)
                await asyncio.sleep(next_poll - now)
            # One poll after `stop`: whoever set it saw the read models at the log's end, and
            # a last change between this watcher's poll and theirs would read as never seen.
            flat = await mget.get()
            if flat != last:
                self._note(flat, per, time.perf_counter())
        finally:
            if mget.transport is not None:
                mget.transport.close()
        self.seconds = time.perf_counter() - started

    def _note(self, flat: list[bytes | None], per: int, now: float) -> None:
        for i, timeline in enumerate(self.timelines):
            for p, line in enumerate(timeline):
                value = flat[p * per + i]
                position = parse_position(value.decode() if value else None)
                if not line or position > line[-1][0]:
                    line.append((position, now))

    def visible_at(
        self, partition: int, position: Position, projections: Sequence[str] = READER_PROJECTIONS
    ) -> float | None:
        """When a poll first saw `position` folded by all of `projections` in `partition`."""
        seen = []
        for name in projections:
            line = self.timelines[READER_PROJECTIONS.index(name)][partition]
            index = bisect.bisect_left(line, position, key=lambda entry: entry[0])
            if index == len(line):
                return None
            seen.append(line[index][1])
        return max(seen)


class Contention:
    """How busy the cores were from its making to `measured()`: the machine's share busy, and
    per process (the load generator, this one, as `bench`) its CPU time and the time its
    threads waited for a core, each in ms per second of wall time. Waits are what a hop of
    the write path queues behind: every process on two cores."""

    def __init__(self, processes: dict[str, int]) -> None:
        self.processes = processes | {"bench": os.getpid()}
        self.started = time.perf_counter()
        self.busy, self.total = machine_busy_and_total_ticks()
        self.before = {name: _reading(name, pid) for name, pid in self.processes.items()}

    def measured(self) -> dict[str, Any]:
        per_s = 1000 / (time.perf_counter() - self.started)
        busy, total = machine_busy_and_total_ticks()
        now = {name: _reading(name, pid) for name, pid in self.processes.items()}
        return {
            "machine_busy_share": round((busy - self.busy) / max(total - self.total, 1), 3),
            "cpu_ms_per_s": {
                name: round((cpu - self.before[name][0]) * per_s, 1)
                for name, (cpu, _) in now.items()
            },
            "run_queue_wait_ms_per_s": {
                name: round((wait - self.before[name][1]) * per_s, 1)
                for name, (_, wait) in now.items()
            },
        }


def _reading(name: str, pid: int) -> tuple[float, float]:
    """CPU and run-queue seconds of a process so far: the stack's with their children, the
    bench's without (the stack's processes are its children)."""
    if name == "bench":
        return own_cpu_seconds(pid), own_run_queue_wait_seconds(pid)
    return cpu_seconds([pid]), run_queue_wait_seconds([pid])


def _lag_summary(lags: list[float], written: int, invisible: int) -> dict[str, Any]:
    lags = lags or [0.0]
    return {
        "comments": written,
        "never_seen": invisible,
        "p50_ms": round(percentile(lags, 0.5) * 1000, 2),
        "p99_ms": round(percentile(lags, 0.99) * 1000, 2),
        "max_ms": round(max(lags) * 1000, 2),
    }


async def command_to_visible(
    subject: Commentstream, rate: float, seconds: float, threads: int = 50
) -> dict[str, Any]:
    """Post at a fixed open-loop `rate` for `seconds`; lag from each command's send to the poll
    that first saw both read models of its partition at or past its log position."""
    written: list[tuple[int, Position, float]] = []

    def thread(n: int) -> str:
        return f"bench-visible-{n % threads}"

    def keep(n: int, response: Response, sent: float) -> None:
        if response.status == 201:
            position = parse_position(response.json()["position"])
            written.append((subject.thread_partition(thread(n)), position, sent))

    watcher = Watcher(subject.redis, subject.partitions)
    contention = Contention(subject.process_ids())
    # The watcher's polls time the lag until the last post is seen: no collector pause there.
    with no_collector_pauses():
        stop = asyncio.Event()
        watching = asyncio.create_task(watcher.run(stop))
        await asyncio.sleep(0.05)
        posts = await load(
            64,
            max(1, round(rate * seconds)),
            lambda n: subject.new_comment(thread(n), BODY_300),
            base_url=subject.base_url,
            on_response=keep,
            rate=rate,
        )
        await subject.settle()
        stop.set()
        await watching
    cores = contention.measured()
    seen = [(watcher.visible_at(p, position), sent) for p, position, sent in written]
    lags = [at - sent for at, sent in seen if at is not None]
    # The issue's own measure: visible in the thread view (like counts aside).
    in_view = [
        (watcher.visible_at(p, position, ["thread_view"]), sent) for p, position, sent in written
    ]
    view_lags = [at - sent for at, sent in in_view if at is not None]
    return {
        "rate_per_s": round(rate, 1),
        "seconds": seconds,
        "posts": posts,
        "lag": _lag_summary(lags, len(written), len(seen) - len(lags)),
        "lag_thread_view": _lag_summary(view_lags, len(written), len(in_view) - len(view_lags)),
        "cores": cores,
        "watcher": {
            "polls": watcher.polls,
            "mean_poll_interval_ms": round(watcher.seconds / max(watcher.polls, 1) * 1000, 3),
        },
    }


def ignore(_: int) -> None:
    """A progress callback that shows nothing."""


async def _replay(url: str, events: int) -> dict[str, Any]:
    """Write `events` into an empty log as benchmarks/audit.py does; fold it into generation 1 of
    each projection (a fresh read model), timed."""
    # No read timeout: on two busy cores, a fill pipeline of 2,000 entries may take longer than
    # redis-py 8's default.
    redis = Redis.from_url(
        url, decode_responses=True, encoding_errors="surrogateescape", socket_timeout=None
    )
    fill_seconds = await audit.fill(redis, events)
    written = events // audit.EVENTS_PER_THREAD * audit.EVENTS_PER_THREAD
    settings = Settings(redis_url=url, partitions=audit.PARTITIONS, secret=audit.SECRET)
    results: dict[str, Any] = {
        "events": written,
        "partitions": audit.PARTITIONS,
        "fill_seconds": round(fill_seconds, 2),
    }
    workers = Workers(settings)
    results["workers"] = workers.processes
    for name, make in PROJECTIONS.items():
        server_before = await server_cpu_seconds(redis)
        started = time.perf_counter()
        await build_generation(
            redis,
            make(redis, AuthorKeyVault(redis, settings.secret)),
            1,
            audit.PARTITIONS,
            ignore,
            workers=workers,
        )
        seconds = time.perf_counter() - started
        server = await server_cpu_seconds(redis) - server_before
        results[name] = {
            "seconds": round(seconds, 2),
            "events_per_s": round(written / seconds),
            # Redis's own share (reading the log out, the commit scripts): a floor for the
            # rate on these cores, whatever the projectors do.
            "server_cpu_us_per_event": round(server / written * 1e6, 2),
        }
    await redis.aclose()
    return results


async def server_cpu_seconds(redis: Redis) -> float:
    """CPU time the Redis server has used so far (INFO cpu, user + system)."""
    cpu = await redis.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


def measure_replay(events: int, scratch: Path) -> dict[str, Any]:
    """Replay events/s of both projections, on a server of its own."""
    server = EmbeddedRedis(scratch / "replay").start()
    try:
        return uvloop.run(_replay(server.url, events))
    finally:
        server.stop()
