"""A steady load of posts and likes through the HTTP API, and what to check once it stops: every
acknowledged write in the view exactly once, and the read models equal to a fresh replay."""

import json
import threading
from typing import Self

import httpx

from tests.processes import Stack, wait_until


class Background:
    """Work in a thread of its own for a `with` block: `_run` until `_stop` is set."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._run)

    def __enter__(self) -> Self:
        self._worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._worker.join()

    def _run(self) -> None:
        raise NotImplementedError


class Load(Background):
    """Posts (and likes of earlier posts) on one thread from a background thread."""

    def __init__(self, stack: Stack, thread: str) -> None:
        super().__init__()
        self.stack = stack
        self.thread = thread
        self.created: list[str] = []
        self.queued: list[str] = []
        self.statuses: list[int] = []

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
