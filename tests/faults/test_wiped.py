"""Redis comes back empty: the services notice, refuse to pretend, and say so."""

from pathlib import Path

import httpx
import pytest

from storage.deployment import EXIT_WIPED
from storage.keys import PartitionKeys
from tests.processes import start_stack, stop_stack, wait_until

pytestmark = pytest.mark.slow


def test_a_wiped_server_is_refused_loudly(tmp_path: Path, logs_dir: Path, topology: str) -> None:
    stack = start_stack(tmp_path / "redis", logs_dir, cluster=topology == "cluster")
    client = stack.client()
    try:
        with httpx.Client(base_url=stack.base_url, timeout=10) as api:
            assert (
                api.post("/api/v1/threads/w/comments", json={"body": "before"}).status_code == 201
            )
            client.flushall()  # this test's own server (every master of its own cluster)
            # A write in the moment before the services notice: refused, and it must not
            # recreate the command stream (a stream without its group would swallow it).
            racing = api.post("/api/v1/threads/w/comments", json={"body": "racing"})
            assert racing.status_code == 503 and racing.json()["error"]["code"] == "store_wiped"

            workers = [stack.services[name] for name in ("processor", "thread_view", "like_counts")]
            wait_until(
                lambda: all(w.process and w.process.poll() is not None for w in workers),
                30,
                "processor and projectors to stop",
            )
            assert [w.process.returncode for w in workers if w.process] == [EXIT_WIPED] * 3
            assert all("wiped or replaced" in w.log() for w in workers)

            ready = api.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["deployment"].startswith("wiped")
            refused = api.post("/api/v1/threads/w/comments", json={"body": "after"})
            assert refused.status_code == 503 and refused.json()["error"]["code"] == "store_wiped"
            assert "wiped or replaced" in stack.services["gateway"].log()

            # Nothing was quietly recreated: no command stream, no group at `$`.
            for p in range(4):
                assert not client.exists(PartitionKeys(p).commands)

            restarted = stack.services["processor"]
            restarted.start()  # with the marker it started with, it still refuses
            wait_until(
                lambda: restarted.process is not None and restarted.process.poll() is not None,
                30,
                "the restarted processor to refuse",
            )
            assert restarted.process.returncode == EXIT_WIPED
    finally:
        client.close()
        stop_stack(stack)
