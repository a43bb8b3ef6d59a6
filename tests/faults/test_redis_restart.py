"""Redis killed under load (`appendfsync always`) and started again: every comment that got a
201 is there; while it is down writes get 503 with Retry-After and /readyz says not ready; the
gateway, processor and projectors reconnect by themselves."""

import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.processes import Stack, http_ok, start_stack, stop_stack, wait_until

pytestmark = pytest.mark.slow


def test_a_redis_crash_loses_no_acknowledged_comment(
    tmp_path: Path, logs_dir: Path, topology: str
) -> None:
    """On the cluster, every node is killed at once (a power cut) and started again."""
    stack = start_stack(tmp_path / "redis", logs_dir, fsync="always", cluster=topology == "cluster")
    try:
        run_crash_under_load(stack)
    finally:
        stop_stack(stack)


def run_crash_under_load(stack: Stack) -> None:
    acknowledged: list[str] = []
    statuses: list[int] = []
    stop = threading.Event()

    def write_steadily() -> None:
        with httpx.Client(base_url=stack.base_url, timeout=10) as client:
            for n in range(100_000):
                if stop.is_set():
                    return
                try:
                    response = client.post("/api/v1/threads/crash/comments", json={"body": f"n{n}"})
                except httpx.HTTPError:
                    statuses.append(-1)
                    continue
                statuses.append(response.status_code)
                if response.status_code == 201:
                    acknowledged.append(response.json()["id"])
                elif response.status_code == 503:
                    assert response.headers.get("retry-after")
                    time.sleep(0.05)

    writer = threading.Thread(target=write_steadily)
    writer.start()
    try:
        wait_until(lambda: len(acknowledged) >= 30, 30, "some comments before the crash")
        for node in stack.nodes:
            node.kill()
        wait_until(lambda: 503 in statuses, 20, "a 503 while Redis is down")
        ready = httpx.get(stack.base_url + "/readyz", timeout=5)
        assert ready.status_code == 503 and ready.json()["checks"]["redis"] != "ok"
        down_at = len(acknowledged)
        stack.store.start()  # the cluster: its nodes find each other again (nodes.conf)
        wait_until(lambda: len(acknowledged) >= down_at + 30, 60, "writes to succeed again")
    finally:
        stop.set()
        writer.join()
    assert 500 not in statuses
    wait_until(lambda: http_ok(stack.base_url + "/readyz"), 30, "every service to be back")
    with httpx.Client(base_url=stack.base_url, timeout=10) as client:

        def all_there() -> bool:
            view = client.get("/api/v1/threads/crash", params={"limit": 200}).json()
            shown: set[str] = set()
            cursor = None
            while True:
                page = client.get(
                    "/api/v1/threads/crash",
                    params={"limit": 200, **({"cursor": cursor} if cursor else {})},
                ).json()
                shown |= {c["id"] for c in page["comments"]}
                cursor = page["next_cursor"]
                if not cursor:
                    break
            return view["count"] >= len(acknowledged) and set(acknowledged) <= shown

        wait_until(all_there, 60, "every acknowledged comment in the thread view")
