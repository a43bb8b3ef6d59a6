"""Webhooks end to end: a real HTTP receiver on loopback checks each delivery's Standard
Webhooks signature, fails the first attempts and sees every event delivered, with the same
`webhook-id` on each retry and no personal data; an endpoint that keeps failing is disabled
and its deliveries parked; the owner sees the last deliveries."""

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.processes import Stack, wait_until

ADMIN = {"Authorization": "Bearer e2e-admin-key"}


@dataclass
class Receiver:
    """Answers 500 to the first `failures` attempts of each message, then 200."""

    failures: int
    secret: str = ""
    attempts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        try:
            Webhook(self.secret).verify(body, headers)
            verified = True
        except Exception:
            verified = False
        message_id = headers.get("webhook-id", "")
        with self.lock:
            seen = self.attempts.setdefault(message_id, [])
            seen.append({"verified": verified, "body": json.loads(body)})
            return 500 if len(seen) <= self.failures else 200

    def of_thread(self, thread: str) -> dict[str, list[dict[str, Any]]]:
        with self.lock:
            return {
                m: list(a) for m, a in self.attempts.items() if a[0]["body"]["thread"] == thread
            }


@pytest.fixture
def receiver_url() -> Iterator[tuple[str, Receiver, Receiver]]:
    """Two receivers on one server: /flaky fails twice per message, /down always."""
    flaky, down = Receiver(failures=2), Receiver(failures=10**6)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            target = flaky if self.path == "/flaky" else down
            status = target.handle({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", flaky, down
    server.shutdown()


def test_every_event_is_delivered_signed_and_retried_with_the_same_id(
    stack: Stack, thread_id: str, receiver_url: tuple[str, Receiver, Receiver]
) -> None:
    base, flaky, _ = receiver_url
    with httpx.Client(base_url=stack.base_url, timeout=10) as api:
        registered = api.post(
            "/api/v1/webhooks",
            json={"url": f"{base}/flaky", "events": ["CommentPosted", "CommentLiked"]},
            headers=ADMIN,
        )
        assert registered.status_code == 201, registered.text
        endpoint = registered.json()
        flaky.secret = endpoint["secret"]
        assert endpoint["secret"].startswith("whsec_")
        try:
            token = api.post("/api/v1/session").json()["token"]
            ids = [
                api.post(
                    f"/api/v1/threads/{thread_id}/comments",
                    json={"body": f"hook {n}", "author": {"name": "Ann", "email": "ann@x.org"}},
                ).json()["id"]
                for n in range(3)
            ]
            liked = api.put(
                f"/api/v1/threads/{thread_id}/comments/{ids[0]}/like",
                headers={"Authorization": f"Bearer {token}"},
            )
            assert liked.status_code == 200

            def all_delivered() -> bool:
                got = flaky.of_thread(thread_id)
                return len(got) == 4 and all(len(a) == 3 for a in got.values())

            wait_until(all_delivered, 30, "every event delivered after two failures")
            got = flaky.of_thread(thread_id)
            assert all(a["verified"] for attempts in got.values() for a in attempts)
            bodies = [attempts[0]["body"] for attempts in got.values()]
            assert sorted(b["type"] for b in bodies) == ["CommentLiked"] + ["CommentPosted"] * 3
            assert {b["data"]["comment_id"] for b in bodies} == set(ids)
            for attempts in got.values():  # each retry the same message
                assert len({json.dumps(a["body"]) for a in attempts}) == 1
            text = json.dumps(bodies)
            assert "ann@x.org" not in text and "Ann" not in text and "personal" not in text
            listed = api.get("/api/v1/webhooks", headers=ADMIN).json()["endpoints"]
            [mine] = [e for e in listed if e["id"] == endpoint["id"]]
            assert "secret" not in mine and mine["disabled"] is False
            statuses = [d["status"] for d in mine["last_deliveries"]]
            assert statuses.count(200) >= 4 and statuses.count(500) >= 8
        finally:
            api.delete(f"/api/v1/webhooks/{endpoint['id']}", headers=ADMIN)


def test_an_endpoint_that_keeps_failing_is_disabled_and_its_deliveries_parked(
    stack: Stack, thread_id: str, receiver_url: tuple[str, Receiver, Receiver]
) -> None:
    base, _, down = receiver_url
    with httpx.Client(base_url=stack.base_url, timeout=10) as api:
        endpoint = api.post(
            "/api/v1/webhooks",
            json={"url": f"{base}/down", "events": ["CommentPosted"]},
            headers=ADMIN,
        ).json()
        down.secret = endpoint["secret"]
        try:
            for n in range(2):
                api.post(f"/api/v1/threads/{thread_id}/comments", json={"body": f"lost {n}"})

            def disabled() -> bool:
                listed = api.get("/api/v1/webhooks", headers=ADMIN).json()["endpoints"]
                return any(e["id"] == endpoint["id"] and e["disabled"] for e in listed)

            wait_until(disabled, 30, "the endpoint disabled")  # after 10 failures in a row
            client = stack.client()
            try:

                def parked() -> int:
                    return sum(
                        1
                        for _, f in client.xrange("cs:webhooks:dead")
                        if f["endpoint"] == endpoint["id"]
                    )

                wait_until(lambda: parked() == 2, 30, "both deliveries parked")
            finally:
                client.close()
        finally:
            api.delete(f"/api/v1/webhooks/{endpoint['id']}", headers=ADMIN)


def test_a_bad_endpoint_is_refused_naming_the_field(stack: Stack) -> None:
    with httpx.Client(base_url=stack.base_url, timeout=10) as api:
        bad = api.post("/api/v1/webhooks", json={"url": "ftp://x"}, headers=ADMIN)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "url"
        unknown = api.post(
            "/api/v1/webhooks", json={"url": "http://x.example", "events": ["Nope"]}, headers=ADMIN
        )
        assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "events"
        assert api.post("/api/v1/webhooks", json={"url": "http://x.example"}).status_code == 403
