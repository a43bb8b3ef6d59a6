"""The live fan-out's buffers and caps, without a server: a reader that falls behind its buffer
is dropped (its stream ends, to come back with Last-Event-ID) while the others go on, and the
caps per address and per process refuse streams with their own codes."""

import asyncio
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from services.gateway import live_hub
from services.gateway.fast_live import _stream_request
from services.gateway.live_hub import LiveHub, StreamRefused
from services.gateway.read_models import ReadModels
from storage import outcome_listener
from storage.connection import connect

NOWHERE = "redis://127.0.0.1:1"  # never connected to: the follower is not started here


def hub(per_process: int = 10, per_address: int = 5, buffer: int = 3) -> LiveHub:
    redis = Redis.from_url(NOWHERE)
    return LiveHub(
        follower=redis,
        reads=ReadModels(redis, 0.1, timedelta(minutes=15)),
        partitions=1,
        per_process=per_process,
        per_address=per_address,
        buffer=buffer,
    )


async def test_a_reader_behind_its_buffer_is_dropped_and_the_others_go_on() -> None:
    live = hub(buffer=3)
    slow = live.subscribe("default", "t", "10.0.0.1")
    quick = live.subscribe("default", "t", "10.0.0.2")
    for version in range(1, 6):
        for subscription in (slow, quick):
            if not subscription.dropped:
                live._deliver(subscription, (version, f"m{version}".encode()))
        await quick.mailbox.get()  # the quick reader keeps up
    assert slow.dropped and not quick.dropped
    assert await slow.mailbox.get() is None and not len(slow.mailbox)  # its stream ends
    assert live.open_streams == 2  # the slow one's connection is still open
    live.release(slow)  # its response has ended
    assert live.open_streams == 1


async def test_a_dropped_reader_keeps_its_place_under_the_caps_until_its_stream_ends() -> None:
    """A client that stops reading cannot open streams past the cap by being dropped."""
    live = hub(per_address=1, buffer=1)
    stalled = live.subscribe("default", "t", "10.0.0.1")
    live._deliver(stalled, (1, b"m1"))
    live._deliver(stalled, (2, b"m2"))
    assert stalled.dropped
    with pytest.raises(StreamRefused):
        live.subscribe("default", "t", "10.0.0.1")
    live.release(stalled)
    live.subscribe("default", "t", "10.0.0.1")


async def test_streams_are_capped_per_address_and_per_process() -> None:
    live = hub(per_process=3, per_address=2)
    first = live.subscribe("default", "t", "10.0.0.1")
    live.subscribe("default", "t", "10.0.0.1")
    with pytest.raises(StreamRefused) as per_address:
        live.subscribe("default", "u", "10.0.0.1")
    assert (per_address.value.status, per_address.value.code) == (429, "too_many_live_streams")
    live.subscribe("default", "u", "10.0.0.2")
    with pytest.raises(StreamRefused) as per_process:
        live.subscribe("default", "u", "10.0.0.3")
    assert (per_process.value.status, per_process.value.code) == (503, "live_full")
    live.release(first)
    live.subscribe("default", "t", "10.0.0.1")  # a closed stream frees its place


async def test_stopping_ends_every_stream() -> None:
    live = hub()
    readers = [live.subscribe("default", f"t{n}", "10.0.0.1") for n in range(3)]
    live._deliver(readers[0], (1, b"m1"))
    await live.stop()
    assert all([await reader.mailbox.get() is None for reader in readers])


@pytest.mark.parametrize(
    ("path", "query", "headers", "served"),
    [
        ("/api/v1/threads/t1/live", b"", [], ("default", "t1", None)),
        ("/api/v1/threads/t1/live", b"site=blog", [(b"last-event-id", b"42")], ("blog", "t1", 42)),
        ("/api/v1/threads/t1/live", b"site=blog&site=x", [], None),  # repeated
        ("/api/v1/threads/t1/live", b"other=1", [], None),  # unknown: FastAPI's answer
        ("/api/v1/threads/t1/live", b"site=Not%20a%20site", [], None),
        ("/api/v1/threads/t1/live", b"", [(b"last-event-id", b"x")], None),
        (
            "/api/v1/threads/t1/live",
            b"",
            [(b"last-event-id", b"1"), (b"last-event-id", b"2")],
            None,
        ),
        ("/api/v1/threads/t1", b"", [], None),
    ],
)
def test_the_plain_stream_serves_only_well_formed_requests(
    path: str, query: bytes, headers: list[tuple[bytes, bytes]], served: object
) -> None:
    scope = {"type": "http", "method": "GET", "path": path, "query_string": query}
    assert _stream_request({**scope, "headers": headers}) == served


@pytest.mark.parametrize("block_ms", [live_hub.BLOCK_MS, outcome_listener.BLOCK_MS])
def test_blocking_reads_return_before_the_socket_times_out(block_ms: int) -> None:
    """A blocking XREAD as long as the client's socket timeout loses the race now and then:
    the read fails with a timeout, and the live updates paused for a second (seen at 5 s)."""
    timeout = connect(NOWHERE).connection_pool.make_connection().socket_timeout
    assert timeout is None or block_ms / 1000 <= timeout / 2


async def test_a_crowd_is_handed_a_message_in_slices_and_its_keep_alives_spread_out() -> None:
    crowd = live_hub.FAN_OUT_SLICE * 2 + 1
    live = hub(per_process=crowd, per_address=crowd)
    readers = [live.subscribe("default", "t", "10.0.0.1") for _ in range(crowd)]
    await live._hand_out(readers, (1, b"m1"))
    assert all(len(reader.mailbox) == 1 for reader in readers)
    slots = {reader.keep_alive_slot for reader in readers}
    assert slots == set(range(live_hub.KEEP_ALIVE_SLOTS))  # not all at the same moment


async def test_each_tenth_of_a_second_the_readers_of_that_slot_get_their_keep_alive() -> None:
    crowd = live_hub.KEEP_ALIVE_SLOTS * 2
    live = hub(per_process=crowd, per_address=crowd)
    readers = [live.subscribe("default", "t", "10.0.0.1") for _ in range(crowd)]
    keeping_alive = asyncio.create_task(live._keep_alive())
    await asyncio.sleep(0.25)  # slots 0 and 1
    keeping_alive.cancel()
    got = [reader for reader in readers if len(reader.mailbox)]
    assert got and {reader.keep_alive_slot for reader in got} <= {0, 1, 2}
    assert all([await reader.mailbox.get() == live_hub.KEEP_ALIVE for reader in got])
