"""The hottest requests, a page of a thread for a reader without an identity and the counts of
a listing page, answered in plain ASGI before FastAPI's routing, validation and dependency
injection (which cost several times the work itself). They give the same bytes as the FastAPI
routes (`routes/threads.read_thread` and `counts`, which document them in the OpenAPI schema);
a test holds each pair together.

Anything else (a caller with a token, a parameter out of range, an unknown one, a bad cursor,
an error from Redis) goes on to FastAPI, whose answer, error or not, is the reference.
"""

import re
from typing import Any, cast, get_args
from urllib.parse import parse_qsl

import orjson
from redis.exceptions import RedisError

from events.identifiers import SITE_ID_PATTERN, THREAD_ID_PATTERN
from projections.thread_view.pages import PageRequest
from projections.thread_view.query import InvalidCursor, SortOrder
from services.gateway.context import Gateway
from services.gateway.limits import ASGIApp, Receive, Scope, Send
from services.gateway.metrics import PAGE_READS
from services.gateway.routes.threads import (
    MAX_COUNTED_THREADS,
    MAX_CURSOR_CHARS,
    MAX_PAGE_LIMIT,
    STREAM_ID,
)
from storage.failures import STORE_UNAVAILABLE

THREAD_PATH = re.compile(r"^/api/v1/threads/(" + THREAD_ID_PATTERN.strip("^$") + r")$")
SITE = re.compile(SITE_ID_PATTERN)
STREAM_ID_MATCH = re.compile(STREAM_ID)
SORTS = get_args(SortOrder)
ROUTE_PATH = "/api/v1/threads/{thread}"
COUNTS_PATH = "/api/v1/counts"
THREAD = re.compile(THREAD_ID_PATTERN)


class FastThreadReads:
    def __init__(self, app: ASGIApp, gateway: Gateway, route: Any, counts_route: Any) -> None:
        self.app = app
        self.gateway = gateway
        self.route = route  # the FastAPI routes, so metrics name these paths as they would
        self.counts_route = counts_route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == COUNTS_PATH:
            await self._counts(scope, receive, send)
            return
        request = self._page_request(scope)
        if request is None:
            await self.app(scope, receive, send)
            return
        page_request, min_position = request
        try:
            page = await self.gateway.reads.thread_page(
                self.gateway.store.keys_for(page_request.site, page_request.thread),
                page_request,
                viewer=None,
                min_position=min_position,
            )
        except (InvalidCursor, RedisError, *STORE_UNAVAILABLE):
            await self.app(scope, receive, send)  # FastAPI gives the error its proper answer
            return
        scope["route"] = self.route
        PAGE_READS.labels("asgi").inc()
        await _send_json(send, page)

    async def _counts(self, scope: Scope, receive: Receive, send: Send) -> None:
        params = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        threads = [value for name, value in params if name == "thread"]
        sites = [value for name, value in params if name == "site"]
        if (
            scope["method"] != "GET"
            or len(threads) + len(sites) != len(params)
            or not 1 <= len(threads) <= MAX_COUNTED_THREADS
            or len(sites) > 1
            or not all(THREAD.match(thread) for thread in threads)
            or (sites and not SITE.match(sites[0]))
        ):
            await self.app(scope, receive, send)
            return
        site = sites[0] if sites else "default"
        try:
            counts = await self.gateway.reads.counts(site, threads, self.gateway.store.partitions)
        except (RedisError, *STORE_UNAVAILABLE):
            await self.app(scope, receive, send)
            return
        scope["route"] = self.counts_route
        await _send_json(send, orjson.dumps(counts))

    def _page_request(self, scope: Scope) -> tuple[PageRequest, str | None] | None:
        if scope["type"] != "http" or scope["method"] != "GET":
            return None
        match = THREAD_PATH.match(scope["path"])
        if match is None or any(name == b"authorization" for name, _ in scope["headers"]):
            return None
        params = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        found = dict(params)
        if len(found) != len(params) or not set(found) <= {
            "site",
            "sort",
            "limit",
            "cursor",
            "min_position",
        }:
            return None
        site = found.get("site", "default")
        sort = found.get("sort", "oldest")
        limit = found.get("limit", "50")
        cursor = found.get("cursor")
        min_position = found.get("min_position")
        if (
            not SITE.match(site)
            or sort not in SORTS
            or not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= MAX_PAGE_LIMIT)
            or (cursor is not None and (not cursor or len(cursor) > MAX_CURSOR_CHARS))
            or (min_position is not None and not STREAM_ID_MATCH.match(min_position))
        ):
            return None
        closes_after = self.gateway.sites.get(site).moderation.auto_close_days
        request = PageRequest(
            site, match.group(1), cast(SortOrder, sort), int(limit), cursor, closes_after
        )
        return request, min_position


async def _send_json(send: Send, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-length", str(len(body)).encode()),
                (b"content-type", b"application/json"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
