"""Redis at `maxmemory` (noeviction) under a load of posts and likes, then given memory again:
writes are refused with 503 `store_full` and Retry-After (never a 500), /readyz says the store
is full, and nothing is lost or parked: every acknowledged comment and like is in the read
models, every queued (202) command is applied, `verify` is clean and no dead letter is left."""

import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.processes import Stack, http_ok, start_stack, stop_stack, wait_until

pytestmark = pytest.mark.slow
THREAD = "full"


def test_a_full_store_refuses_writes_and_loses_nothing(
    tmp_path: Path, logs_dir: Path, topology: str
) -> None:
    """On the cluster, every node reaches its `maxmemory` at once."""
    stack = start_stack(tmp_path / "redis", logs_dir, cluster=topology == "cluster")
    try:
        run_full_store_under_load(stack)
    finally:
        stop_stack(stack)


class Load:
    """Posts from one thread, likes of acknowledged comments from another, each answer kept."""

    def __init__(self, stack: Stack) -> None:
        self.base_url = stack.base_url
        self.posted: list[str] = []
        self.queued: list[str] = []  # status URLs of commands answered 202
        self.liked: set[str] = set()
        self.answers: list[tuple[int, str]] = []  # (status, error code or "")
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.post), threading.Thread(target=self.like)]

    def __enter__(self) -> "Load":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def _record(self, response: httpx.Response) -> None:
        code = ""
        if response.status_code >= 400:
            code = response.json()["error"]["code"]
            if response.status_code == 503:
                assert response.headers.get("retry-after"), response.text
                time.sleep(0.05)
        self.answers.append((response.status_code, code))

    def post(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=10) as client:
            for n in range(100_000):
                if self.stop.is_set():
                    return
                response = client.post(f"/api/v1/threads/{THREAD}/comments", json={"body": f"n{n}"})
                self._record(response)
                if response.status_code == 201:
                    self.posted.append(response.json()["id"])
                elif response.status_code == 202:
                    self.queued.append(response.json()["status_url"])

    def like(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=10) as client:
            token = client.post("/api/v1/session").json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            while not self.stop.is_set():
                unliked = [c for c in self.posted if c not in self.liked]
                if not unliked:
                    time.sleep(0.01)
                    continue
                comment = unliked[0]
                response = client.put(
                    f"/api/v1/threads/{THREAD}/comments/{comment}/like", headers=headers
                )
                self._record(response)
                if response.status_code == 200:
                    self.liked.add(comment)


def run_full_store_under_load(stack: Stack) -> None:
    nodes = stack.node_clients()
    with Load(stack) as load:
        wait_until(lambda: len(load.liked) >= 20, 30, "some comments and likes before")
        for node in nodes:
            node.config_set("maxmemory-policy", "noeviction")
            # Below what is used: every write is refused, whatever memory comes and goes.
            node.config_set("maxmemory", node.info("memory")["used_memory"] // 2)
        wait_until(lambda: (503, "store_full") in load.answers, 20, "a write refused as full")
        ready = httpx.get(stack.base_url + "/readyz", timeout=5)
        assert ready.status_code == 503 and ready.json()["checks"]["store"].startswith("full")
        time.sleep(2)  # writes keep coming while it is full
        full_at = (len(load.posted), len(load.liked))
        for node in nodes:
            node.config_set("maxmemory", 0)
        wait_until(
            lambda: len(load.posted) >= full_at[0] + 20 and len(load.liked) >= full_at[1] + 10,
            60,
            "writes to succeed again",
        )
    answers = {status for status, _ in load.answers}
    assert 500 not in answers and answers <= {200, 201, 202, 503}, answers
    assert {code for status, code in load.answers if status == 503} == {"store_full"}
    wait_until(lambda: http_ok(stack.base_url + "/readyz"), 30, "the stack to be ready again")

    with httpx.Client(base_url=stack.base_url, timeout=10) as client:
        for status_url in load.queued:
            wait_until(
                lambda url=status_url: client.get(url).json()["status"] == "accepted",
                30,
                "a queued command to be applied",
            )
            load.posted.append(client.get(status_url).json()["id"])

        def every_write_is_shown() -> bool:
            likes = shown_likes(client)
            return set(load.posted) <= likes.keys() and all(likes[c] == 1 for c in load.liked)

        try:
            wait_until(every_write_is_shown, 60, "every acknowledged write in the view")
        except AssertionError:
            likes = shown_likes(client)
            missing = set(load.posted) - likes.keys()
            wrong = {c: likes.get(c) for c in load.liked if likes.get(c) != 1}
            raise AssertionError(f"missing: {missing}; like counts wrong: {wrong}") from None
    verify = stack.command("verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    parked = stack.command("dlq", "list", "--json")
    assert parked.returncode == 0 and parked.stdout.strip() == "[]", parked.stdout


def shown_likes(client: httpx.Client) -> dict[str, int]:
    """Every comment of the thread with its like count, page by page."""
    shown: dict[str, int] = {}
    cursor = None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/api/v1/threads/{THREAD}", params=params).json()
        shown |= {c["id"]: c["likes"]["count"] for c in page["comments"]}
        cursor = page["next_cursor"]
        if not cursor:
            return shown
