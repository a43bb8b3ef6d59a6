"""The live stream of a thread (`GET /api/v1/threads/{thread}/live`), served in plain ASGI.

A gateway holds thousands of these at once, for as long as readers keep their tabs open.
Through FastAPI each would keep some 190 objects alive (a coroutine per layer of routing and
middleware, a task group with a second task watching for the disconnect, request objects),
and a full garbage collection walks them all: 1.7 s at 10,000 readers, a pause every delivery
waited for (docs/benchmarks.md, "Live readers"). Here a stream is the site's CORS, the limits
and the security headers (the middleware every route has), this coroutine, one task that
waits for the disconnect, and the hub's subscription.

Same bytes as the FastAPI route (`routes/threads.live`, which documents it in the OpenAPI
schema and answers whatever this declines: a bad parameter or header, an unknown one).
"""

import asyncio
import logging
import re
from contextlib import aclosing
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from events.identifiers import SITE_ID_PATTERN, THREAD_ID_PATTERN
from services.gateway.abuse import client_address
from services.gateway.context import Gateway
from services.gateway.limits import ASGIApp, Receive, Scope, Send, send_json_error
from services.gateway.live import LAST_EVENT_ID, STREAM_HEADERS, thread_updates
from services.gateway.live_hub import (
    REFUSED_RETRY_AFTER_SECONDS,
    LiveHub,
    StreamRefused,
    Subscription,
)
from storage.failures import STORE_UNAVAILABLE

logger = logging.getLogger("commentstream.gateway.live")
LIVE_PATH = re.compile(r"^/api/v1/threads/(" + THREAD_ID_PATTERN.strip("^$") + r")/live$")
SITE = re.compile(SITE_ID_PATTERN)
LAST_EVENT_ID_MATCH = re.compile(LAST_EVENT_ID)
ROUTE_PATH = "/api/v1/threads/{thread}/live"
STREAM_REQUEST = "commentstream.live_stream"  # (site, thread, Last-Event-ID) in the scope
STREAM_START = [(name.encode(), value.encode()) for name, value in STREAM_HEADERS.items()]


class LiveStreamsFirst:
    """The gateway's ASGI app: a well-formed live-stream request goes to `live` (the stream
    behind the same CORS, limits and headers middleware as every route, and nothing else);
    anything else, lifespan included, to the FastAPI app."""

    def __init__(self, app: ASGIApp, live: ASGIApp) -> None:
        self.app = app
        self.live = live

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = _stream_request(scope)
        if request is None:
            await self.app(scope, receive, send)
        else:
            scope[STREAM_REQUEST] = request  # read once, here
            await self.live(scope, receive, send)


class LiveStream:
    """One reader's stream, for a request LiveStreamsFirst has read (`scope[STREAM_REQUEST]`)."""

    def __init__(self, gateway: Gateway, route: Any) -> None:
        self.gateway = gateway
        self.route = route  # the FastAPI route, so metrics name this path as it would

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        site, thread, after_version = scope[STREAM_REQUEST]
        gateway = self.gateway
        scope["route"] = self.route
        address = client_address(Request(scope), gateway.settings.proxies)
        try:
            subscription = gateway.live.subscribe(site, thread, address)
        except StreamRefused as refused:
            retry_after = (b"retry-after", str(REFUSED_RETRY_AFTER_SECONDS).encode())
            await send_json_error(send, refused.status, refused.code, str(refused), (retry_after,))
            return
        watcher = asyncio.create_task(_end_when_gone(receive, gateway.live, subscription))
        keys = gateway.store.keys_for(site, thread)
        updates = thread_updates(gateway.live, subscription, gateway.reads, keys, after_version)
        try:
            await send({"type": "http.response.start", "status": 200, "headers": STREAM_START})
            async with aclosing(updates):
                async for chunk in updates:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except STORE_UNAVAILABLE as error:  # the reader reconnects with Last-Event-ID
            logger.warning("a live stream of %s/%s ended: %s", site, thread, error)
        finally:
            watcher.cancel()
            gateway.live.release(subscription)
        await send({"type": "http.response.body", "body": b""})


def _stream_request(scope: Scope) -> tuple[str, str, int | None] | None:
    """(site, thread, Last-Event-ID) of a well-formed stream request, else None."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return None
    match = LIVE_PATH.match(scope["path"])
    if match is None:
        return None
    params = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    if any(name != "site" for name, _ in params) or len(params) > 1:
        return None
    site = params[0][1] if params else "default"
    last_ids = [value for name, value in scope["headers"] if name == b"last-event-id"]
    if not SITE.match(site) or len(last_ids) > 1:
        return None
    if not last_ids:
        return site, match.group(1), None
    last_id = last_ids[0].decode("latin-1")
    if not LAST_EVENT_ID_MATCH.match(last_id):
        return None
    return site, match.group(1), int(last_id)


async def _end_when_gone(receive: Receive, hub: LiveHub, subscription: Subscription) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    hub.end(subscription)
