"""A reader that stops reading (a stalled tab, a slow link) is dropped once its buffer is full,
while the other readers of the thread get every comment; the dropped reader's connection is
closed, and coming back with Last-Event-ID it gets everything it missed."""

import asyncio
import json
import re
import socket
from collections.abc import AsyncIterator

import httpx

from tests.e2e.test_live_fanout import next_comment, open_live_streams
from tests.processes import Stack

BIG_BODY = "stalled " * 1_200  # about 10 kB a message: the socket's buffers fill quickly
MAX_POSTS = 1_000
BATCH = 16
COMMENT_EVENT = re.compile(rb"id: (\d+)\nevent: comment\ndata: (.*)\n\n")


def stalled_reader(stack: Stack, thread: str) -> socket.socket:
    """A live stream whose reader takes its response head and then reads nothing."""
    host, port = stack.base_url.removeprefix("http://").split(":")
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting
    stalled.connect((host, int(port)))
    stalled.sendall(f"GET /api/v1/threads/{thread}/live HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    assert stalled.recv(15).startswith(b"HTTP/1.1 200")
    return stalled


def read_to_the_end(stalled: socket.socket, seconds: float) -> bytes:
    """What the stalled reader finally reads; it must end, the server having closed it."""
    stalled.settimeout(seconds)
    received = b""
    while chunk := stalled.recv(65536):
        received += chunk
    return received


async def lines_of(response: httpx.Response) -> AsyncIterator[str]:
    """A live stream's lines past its first (the hub has subscribed it by then)."""
    assert response.status_code == 200, await response.aread()
    lines = response.aiter_lines()
    assert (await anext(lines)).startswith("retry:")
    return lines


def dropped_streams(metrics: str) -> int:
    [line] = [
        line
        for line in metrics.splitlines()
        if line.startswith("commentstream_live_streams_dropped_total ")
    ]
    return int(line.split()[1])


async def post_batch(client: httpx.AsyncClient, comments: str) -> set[str]:
    responses = await asyncio.gather(
        *(client.post(comments, json={"body": BIG_BODY}) for _ in range(BATCH))
    )
    assert all(response.status_code == 201 for response in responses)
    return {response.json()["id"] for response in responses}


async def test_a_stalled_reader_is_dropped_and_resumes_with_last_event_id(
    stack: Stack, thread_id: str
) -> None:
    comments = f"{stack.base_url}/api/v1/threads/{thread_id}/comments"
    url = f"{stack.base_url}/api/v1/threads/{thread_id}/live"
    metrics = f"{stack.base_url}/metrics"
    async with httpx.AsyncClient(timeout=20) as client:
        dropped_before = dropped_streams((await client.get(metrics)).text)
        stalled = stalled_reader(stack, thread_id)
        posted: set[str] = set()
        async with client.stream("GET", url) as quick_response:
            quick = await lines_of(quick_response)
            while dropped_streams((await client.get(metrics)).text) == dropped_before:
                assert len(posted) < MAX_POSTS, "the stalled reader was not dropped"
                batch = await post_batch(client, comments)
                posted |= batch
                # The quick reader has each batch before the next is posted.
                assert {str((await next_comment(quick))["id"]) for _ in batch} == batch
            # Dropped, yet its connection still counts under the caps until it ends.
            assert open_live_streams(stack) >= 2

        seen = read_to_the_end(stalled, 10)  # it reads again, and its stream ends
        stalled.close()
        seen_events = COMMENT_EVENT.findall(seen)
        assert seen_events, "the stalled reader had nothing before it stopped"
        seen_ids = {json.loads(data)["comment"]["id"] for _, data in seen_events}
        assert seen_ids < posted  # it missed some

        headers = {"Last-Event-ID": seen_events[-1][0].decode()}
        async with client.stream("GET", url, headers=headers) as resumed_response:
            resumed = await lines_of(resumed_response)
            missed = [
                str((await asyncio.wait_for(next_comment(resumed), 20))["id"])
                for _ in range(len(posted) - len(seen_ids))
            ]
    assert seen_ids.isdisjoint(missed) and seen_ids | set(missed) == posted
