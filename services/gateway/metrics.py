"""Prometheus metrics of the gateway."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Histogram
from starlette.requests import Request

REQUESTS = Counter(
    "commentstream_http_requests_total", "HTTP requests", ["method", "route", "status"]
)
LATENCY = Histogram(
    "commentstream_http_request_seconds", "HTTP request latency", ["method", "route"]
)
OUTCOMES = Counter(
    "commentstream_command_outcomes_total",
    "Command outcomes seen by the gateway",
    ["status", "code"],
)


@contextmanager
def observe_request(request: Request) -> Iterator[Callable[[int], None]]:
    started = time.perf_counter()
    status = [500]

    def record(code: int) -> None:
        status[0] = code

    try:
        yield record
    finally:
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        REQUESTS.labels(request.method, path, str(status[0])).inc()
        LATENCY.labels(request.method, path).observe(time.perf_counter() - started)
