"""Prometheus metrics of the gateway."""

import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.security_headers import security_headers

REQUESTS = Counter(
    "commentstream_http_requests_total", "HTTP requests", ["method", "route", "status"]
)
LATENCY = Histogram(
    "commentstream_http_request_seconds", "HTTP request latency", ["method", "route"]
)
PAGE_READS = Counter(
    "commentstream_thread_page_reads_total",
    "Thread pages served, by the code path that answered (asgi: services/gateway/fast_reads)",
    ["path"],
)
OUTCOMES = Counter(
    "commentstream_command_outcomes_total",
    "Command outcomes seen by the gateway",
    ["status", "code"],
)


class MeasureAndHarden:
    """ASGI middleware: counts and times every request by route, and adds the security headers
    (a plain ASGI class: Starlette's BaseHTTPMiddleware costs a task and a stream per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        extra = [
            (k.lower().encode(), v.encode()) for k, v in security_headers(scope["path"]).items()
        ]
        names = {name for name, _ in extra}

        async def send_hardened(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + extra}
            await send(message)

        try:
            await self.app(scope, receive, send_hardened)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            REQUESTS.labels(scope["method"], path, str(status)).inc()
            LATENCY.labels(scope["method"], path).observe(time.perf_counter() - started)
