"""Processes killed with SIGKILL under a steady load of posts and likes; more than one of each
service at once. Afterwards every acknowledged write is there exactly once and every read model
equals a fresh replay of the log (`commentstream verify`)."""

import json
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import (
    ServiceProcess,
    Stack,
    http_ok,
    start_stack,
    stop_stack,
    wait_until,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory: pytest.TempPathFactory, logs_dir: Path) -> Iterator[Stack]:
    stack = start_stack(tmp_path_factory.mktemp("faults"), logs_dir)
    yield stack
    stop_stack(stack)


class Load:
    """Posts (and likes of earlier posts) on one thread from a background thread."""

    def __init__(self, stack: Stack, thread: str) -> None:
        self.stack = stack
        self.thread = thread
        self.created: list[str] = []
        self.queued: list[str] = []
        self.statuses: list[int] = []
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._run)

    def __enter__(self) -> "Load":
        self._worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._worker.join()

    def _run(self) -> None:
        url = f"/api/v1/threads/{self.thread}/comments"
        with httpx.Client(base_url=self.stack.base_url, timeout=15) as client:
            token = client.post("/api/v1/session").json()["token"]
            for n in range(100_000):
                if self._stop.is_set():
                    return
                response = client.post(url, json={"body": f"n{n}"})
                self.statuses.append(response.status_code)
                if response.status_code == 201:
                    self.created.append(response.json()["id"])
                    if n % 3 == 0:
                        client.put(
                            f"{url}/{self.created[-1]}/like",
                            headers={"Authorization": f"Bearer {token}"},
                        )
                elif response.status_code == 202:
                    self.queued.append(response.json()["status_url"])


def all_ids(stack: Stack, thread: str) -> list[str]:
    ids: list[str] = []
    cursor = None
    with httpx.Client(base_url=stack.base_url, timeout=10) as client:
        while True:
            params = {"limit": 200} | ({"cursor": cursor} if cursor else {})
            page = client.get(f"/api/v1/threads/{thread}", params=params).json()
            ids += [c["id"] for c in page["comments"]]
            cursor = page["next_cursor"]
            if not cursor:
                return ids


def settle(stack: Stack, load: Load) -> set[str]:
    """Wait for queued writes to resolve and the view to hold every acknowledged comment."""
    landed = set(load.created)
    with httpx.Client(base_url=stack.base_url, timeout=10) as client:
        for status_url in load.queued:

            def resolved(url: str = status_url) -> bool:
                return client.get(url).json()["status"] != "pending"

            wait_until(resolved, 60, "a queued write to resolve")
            outcome = client.get(status_url).json()
            if outcome["status"] == "accepted":
                landed.add(outcome["id"])
    wait_until(lambda: landed <= set(all_ids(stack, load.thread)), 60, "every write in the view")
    return landed


def verify(stack: Stack) -> dict:  # type: ignore[type-arg]
    result = stack.command("verify", "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 0, report
    return report


def test_processor_killed_mid_batch(fault_stack: Stack) -> None:
    processor = fault_stack.services["processor"]
    with Load(fault_stack, "kill-processor") as load:
        for _ in range(3):
            wait_until(lambda: len(load.created) >= 20, 30, "steady writes")
            time.sleep(random.uniform(0.05, 0.3))
            processor.kill()
            time.sleep(random.uniform(0.1, 0.5))
            processor.start()
        count = len(load.created)
        wait_until(lambda: len(load.created) >= count + 20, 60, "writes after the kills")
    assert 500 not in load.statuses
    landed = settle(fault_stack, load)
    shown = all_ids(fault_stack, "kill-processor")
    assert len(shown) == len(set(shown)) and set(shown) == landed  # exactly once, none extra


def test_projector_killed_between_write_and_ack_repeatedly(fault_stack: Stack) -> None:
    with Load(fault_stack, "kill-projectors") as load:
        for _ in range(5):
            time.sleep(random.uniform(0.05, 0.4))
            victim = fault_stack.services[random.choice(["thread_view", "like_counts"])]
            victim.kill()
            victim.start()
        wait_until(lambda: len(load.created) >= 60, 60, "writes during the kills")
    settle(fault_stack, load)
    wait_until(lambda: http_ok(fault_stack.base_url + "/readyz"), 30, "projectors back")
    assert verify(fault_stack)["differences"] == []


def test_two_of_every_service_at_once(fault_stack: Stack, logs_dir: Path) -> None:
    env = fault_stack.services["processor"].env
    twins = [
        ServiceProcess(args, env, logs_dir).start()
        for args in (["processor"], ["project", "thread_view"], ["project", "like_counts"])
    ]
    try:
        with Load(fault_stack, "twins") as load:
            wait_until(lambda: len(load.created) >= 80, 60, "writes with two of everything")
        landed = settle(fault_stack, load)
        shown = all_ids(fault_stack, "twins")
        assert len(shown) == len(set(shown)) and set(shown) == landed
    finally:
        for twin in twins:
            twin.stop()
    assert verify(fault_stack)["differences"] == []
