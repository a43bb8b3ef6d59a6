"""Live streams for a crowd: one fan-out per gateway process. Many readers of one thread hold no
more Redis connections than one does, each gets every new comment, the cap on streams refuses
one more stream (503 with Retry-After) and nothing else: writes and reads go on."""

import asyncio
import json
import signal
import threading
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import psutil
import redis

from services.embedded_cluster import EmbeddedCluster
from tests.conftest import LIVE_STREAMS_PER_PROCESS
from tests.processes import Stack, http_ok, start_stack, stop_stack, wait_until

READERS = 50


async def open_streams(
    exits: AsyncExitStack, client: httpx.AsyncClient, url: str, count: int
) -> list[AsyncIterator[str]]:
    """`count` live streams, each past its first line (the hub has subscribed it by then)."""
    lines = []
    for _ in range(count):
        response = await exits.enter_async_context(client.stream("GET", url))
        assert response.status_code == 200, await response.aread()
        reading = response.aiter_lines()
        assert (await anext(reading)).startswith("retry:")
        lines.append(reading)
    return lines


async def next_comment(lines: AsyncIterator[str]) -> dict[str, object]:
    """The data of the next `comment` event of a stream."""
    kind = None
    async for line in lines:
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: ") and kind == "comment":
            return json.loads(line.removeprefix("data: "))["comment"]  # type: ignore[no-any-return]
    raise AssertionError("the stream ended")


async def every_stream_gets_a_new_comment(
    client: httpx.AsyncClient, stack: Stack, thread: str, streams: list[AsyncIterator[str]]
) -> None:
    """Post a comment; each stream must then deliver that one comment."""
    posted = await client.post(
        f"{stack.base_url}/api/v1/threads/{thread}/comments", json={"body": "to all"}
    )
    assert posted.status_code == 201, posted.text
    received = await asyncio.wait_for(
        asyncio.gather(*(next_comment(lines) for lines in streams)), 20
    )
    assert {comment["id"] for comment in received} == {posted.json()["id"]}


def gateway_connections(stack: Stack) -> int:
    """Connections the store holds now (on a cluster: its nodes together), less ours."""
    nodes = stack.store.nodes if isinstance(stack.store, EmbeddedCluster) else [stack.store]
    total = 0
    for node in nodes:
        client = redis.Redis.from_url(node.url)
        total += len(client.client_list()) - 1
        client.close()
    return total


async def test_many_readers_share_one_fan_out(stack: Stack, thread_id: str) -> None:
    url = f"{stack.base_url}/api/v1/threads/{thread_id}/live"
    limits = httpx.Limits(max_connections=READERS + 5)
    async with httpx.AsyncClient(timeout=20, limits=limits) as client, AsyncExitStack() as exits:
        await open_streams(exits, client, url, 1)
        with_one = gateway_connections(stack)
        streams = await open_streams(exits, client, url, READERS - 1)
        assert gateway_connections(stack) <= with_one + 1  # not one per reader
        await every_stream_gets_a_new_comment(client, stack, thread_id, streams)


def open_live_streams(stack: Stack) -> int:
    metrics = httpx.get(stack.base_url + "/metrics", timeout=5).text
    [line] = [
        line for line in metrics.splitlines() if line.startswith("commentstream_live_streams ")
    ]
    return int(line.split()[1])


async def test_the_stream_cap_refuses_streams_only(stack: Stack, thread_id: str) -> None:
    url = f"{stack.base_url}/api/v1/threads/{thread_id}/live"
    wait_until(lambda: open_live_streams(stack) == 0, 10, "the streams of other tests to close")
    limits = httpx.Limits(max_connections=LIVE_STREAMS_PER_PROCESS + 10)
    async with httpx.AsyncClient(timeout=20, limits=limits) as client, AsyncExitStack() as exits:
        await open_streams(exits, client, url, LIVE_STREAMS_PER_PROCESS)
        assert open_live_streams(stack) == LIVE_STREAMS_PER_PROCESS
        refused = await client.get(url)
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "live_full"
        assert refused.headers["retry-after"]
        posted = await client.post(
            f"{stack.base_url}/api/v1/threads/{thread_id}/comments", json={"body": "still"}
        )
        assert posted.status_code == 201, posted.text
        read = await client.get(f"{stack.base_url}/api/v1/threads/{thread_id}")
        assert read.status_code == 200


def test_a_gateway_stopping_ends_its_streams_first(stack: Stack, thread_id: str) -> None:
    """Its readers' EventSources then reconnect, to another gateway process; without it the
    gateway would wait for streams that never end."""
    gateway = stack.services["gateway"]
    ended = threading.Event()

    def read_until_the_end() -> None:
        url = f"{stack.base_url}/api/v1/threads/{thread_id}/live"
        with httpx.Client(timeout=30) as client, client.stream("GET", url) as stream:
            for _ in stream.iter_lines():
                pass
        ended.set()

    reader = threading.Thread(target=read_until_the_end)
    reader.start()
    try:
        wait_until(lambda: open_live_streams(stack) == 1, 10, "the stream to be open")
        gateway.stop()  # SIGTERM, then SIGKILL after 10 s
        assert gateway.process is not None and gateway.process.returncode != -signal.SIGKILL
        assert ended.wait(5), "the stream did not end"
    finally:
        reader.join(30)
        gateway.start()
        wait_until(lambda: http_ok(stack.base_url + "/readyz"), 30, "the gateway to be back")


def test_every_gateway_worker_runs_its_own_fan_out(
    tmp_path: Path, logs_dir: Path, thread_id: str
) -> None:
    """With two gateway processes on one port, readers land on either, and each gets the same
    new comment."""
    workers = start_stack(tmp_path / "redis", logs_dir, COMMENTSTREAM_GATEWAY_WORKERS="2")
    try:
        asyncio.run(every_reader_gets_the_comment(workers, thread_id))
    finally:
        stop_stack(workers)


def streams_per_worker(stack: Stack) -> list[int]:
    """Open connections to the gateway's port held by each of its worker processes."""
    gateway = stack.services["gateway"].process
    assert gateway is not None
    port = int(stack.base_url.rsplit(":", 1)[1])
    counts = [
        sum(c.laddr.port == port and bool(c.raddr) for c in child.net_connections("tcp"))
        for child in psutil.Process(gateway.pid).children()
    ]
    return [count for count in counts if count]


async def every_reader_gets_the_comment(stack: Stack, thread_id: str) -> None:
    url = f"{stack.base_url}/api/v1/threads/{thread_id}/live"
    async with AsyncExitStack() as exits:
        streams = []
        while len(streams_per_worker(stack)) < 2:  # until both workers hold some
            assert len(streams) < 40, "every stream went to one worker"
            client = await exits.enter_async_context(httpx.AsyncClient(timeout=20))
            streams += await open_streams(exits, client, url, 1)
        async with httpx.AsyncClient(timeout=20) as poster:
            await every_stream_gets_a_new_comment(poster, stack, thread_id, streams)


async def event_block(lines: AsyncIterator[str]) -> list[str]:
    """The lines of a stream's next event (up to the blank line that ends it)."""
    block: list[str] = []
    async for line in lines:
        if line:
            block.append(line)
        elif block:
            return block
    raise AssertionError("the stream ended")


async def test_the_plain_asgi_stream_and_the_fastapi_route_give_the_same_bytes(
    stack: Stack, thread_id: str
) -> None:
    """services/gateway/fast_live.py serves a well-formed request; the FastAPI route serves
    one it declines (an unknown parameter, here)."""
    url = f"{stack.base_url}/api/v1/threads/{thread_id}/live"
    async with httpx.AsyncClient(timeout=20) as client, AsyncExitStack() as exits:
        fast = await exits.enter_async_context(client.stream("GET", url))
        routed = await exits.enter_async_context(client.stream("GET", url + "?unknown=1"))
        header_names = ("content-type", "cache-control", "x-accel-buffering")
        assert [fast.headers[name] for name in header_names] == [
            routed.headers[name] for name in header_names
        ]
        fast_lines, routed_lines = fast.aiter_lines(), routed.aiter_lines()
        assert await event_block(fast_lines) == await event_block(routed_lines)  # retry:
        posted = await client.post(
            f"{stack.base_url}/api/v1/threads/{thread_id}/comments", json={"body": "same"}
        )
        assert posted.status_code == 201, posted.text
        fast_event = await asyncio.wait_for(event_block(fast_lines), 20)
        assert fast_event == await asyncio.wait_for(event_block(routed_lines), 20)
        assert fast_event[1] == "event: comment"


def test_a_reader_that_leaves_frees_its_place_at_once(stack: Stack, thread_id: str) -> None:
    """At once: not at the next keep-alive, 15 s later."""
    url = f"{stack.base_url}/api/v1/threads/{thread_id}/live"
    wait_until(lambda: open_live_streams(stack) == 0, 10, "the streams of other tests to close")
    with httpx.Client(timeout=20) as client, client.stream("GET", url) as stream:
        lines = stream.iter_lines()  # kept: a dropped iterator would close the response
        assert next(lines).startswith("retry:")
        assert open_live_streams(stack) == 1
    wait_until(lambda: open_live_streams(stack) == 0, 3, "the stream's place to be free")
