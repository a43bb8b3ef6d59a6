"""Moderation over real HTTP, every service its own process: held comments, verdicts, pins,
reports, locks, the moderators' queue and who may moderate (the sites "moderated", in pre
mode with a listed SSO moderator, and "firsttime", in first_time mode; tests/processes.py)."""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt

from tests.processes import SSO_SITE_SECRET

ADMIN = {"Authorization": "Bearer e2e-admin-key"}
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SITE = {"site": "moderated"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sso(subject: str, site: str = "moderated", **claims: Any) -> dict[str, str]:
    token = jwt.encode(
        {"sub": subject, "aud": site, "exp": int(time.time()) + 600, **claims},
        SSO_SITE_SECRET,
        algorithm="HS256",
    )
    return bearer(token)


def post(api: httpx.Client, thread: str, body: str, site: str = "moderated", **more: Any):  # type: ignore[no-untyped-def]
    headers = more.pop("headers", {})
    return api.post(
        f"/api/v1/threads/{thread}/comments",
        params={"site": site},
        json={"body": body, **more},
        headers=headers,
    )


def read(
    api: httpx.Client, thread: str, headers: dict[str, str] | None = None, **params: Any
) -> dict[str, Any]:
    response = api.get(f"/api/v1/threads/{thread}", params=SITE | params, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def act(
    api: httpx.Client,
    thread: str,
    comment_id: str,
    action: str,
    headers: dict[str, str],
    **body: Any,
) -> httpx.Response:
    return api.post(
        f"/api/v1/threads/{thread}/comments/{comment_id}/{action}",
        params=SITE,
        headers=headers,
        json=body or None,
    )


def queue(
    api: httpx.Client, status: str = "pending", headers: dict[str, str] = ADMIN
) -> dict[str, Any]:
    response = api.get(
        "/api/v1/moderation/queue", params=SITE | {"status": status}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def in_queue(
    api: httpx.Client,
    thread: str,
    comment_id: str,
    status: str = "pending",
    settled: Callable[[dict[str, Any]], bool] = lambda item: True,
) -> dict[str, Any] | None:
    """The item once the moderation projection has it (it runs on its own, and may show an
    older state of the item a while: `settled` says when it has caught up); the last one seen,
    if any, when it does not within 10 seconds."""
    deadline = time.monotonic() + 10
    seen = None
    while time.monotonic() < deadline:
        for item in queue(api, status)["items"]:
            if (item["thread"], item["id"]) == (thread, comment_id):
                if settled(item):
                    return item  # type: ignore[no-any-return]
                seen = item
        time.sleep(0.05)
    return seen


def test_a_held_comment_is_its_authors_alone_until_a_moderator_approves_it(
    api: httpx.Client, thread_id: str
) -> None:
    held = post(api, thread_id, "My first thought")
    assert held.status_code == 201, held.text
    assert held.json()["status"] == "pending" and held.json()["held_for"] == ["pre"]
    comment_id, author = held.json()["id"], bearer(held.json()["author_token"])
    position = held.json()["position"]
    for_others = read(api, thread_id, min_position=position)
    assert for_others["comments"] == [] and for_others["count"] == 0
    [own] = read(api, thread_id, author, min_position=position)["comments"]
    assert own["id"] == comment_id and own["status"] == "pending"
    assert own["html"] == "<p>My first thought</p>\n"
    counts = api.get("/api/v1/counts", params={"thread": thread_id, **SITE}).json()
    assert counts == {thread_id: 0}

    item = in_queue(api, thread_id, comment_id)
    assert item is not None and item["held_for"] == ["pre"]
    assert (
        item["html"] == "<p>My first thought</p>\n" and item["author"]["history"]["approved"] == 0
    )

    approved = act(api, thread_id, comment_id, "approve", ADMIN)
    assert approved.status_code == 200, approved.text
    view = read(api, thread_id, min_position=approved.json()["position"])
    assert [c["id"] for c in view["comments"]] == [comment_id] and view["count"] == 1
    assert view["comments"][0]["status"] == "visible"
    assert api.get("/api/v1/counts", params={"thread": thread_id, **SITE}).json() == {thread_id: 1}
    assert act(api, thread_id, comment_id, "approve", ADMIN).json()["result"] == "already_approved"


def test_only_moderators_moderate(api: httpx.Client, thread_id: str) -> None:
    written = post(api, thread_id, "Judge me").json()
    comment_id = written["id"]
    reader = bearer(api.post("/api/v1/session").json()["token"])
    for who in (reader, sso("someone")):
        refused = act(api, thread_id, comment_id, "approve", who)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_moderator"
        listing = api.get("/api/v1/moderation/queue", params=SITE, headers=who)
        assert listing.status_code == 403
    assert act(api, thread_id, comment_id, "approve", {}).status_code == 401
    # A listed identity, and any SSO token with the role, moderate this site.
    assert act(api, thread_id, comment_id, "approve", sso("editor-1")).status_code == 200
    rejected = act(api, thread_id, comment_id, "reject", sso("chief", role="moderator"))
    assert rejected.status_code == 200
    view = read(api, thread_id, min_position=rejected.json()["position"])
    assert view["comments"] == []


def test_rejecting_or_spamming_a_published_comment_hides_it(
    api: httpx.Client, thread_id: str
) -> None:
    ids = []
    for body in ("one", "two"):
        written = post(api, thread_id, body).json()
        act(api, thread_id, written["id"], "approve", ADMIN)
        ids.append(written["id"])
    hidden = act(api, thread_id, ids[0], "spam", ADMIN)
    assert hidden.status_code == 200
    view = read(api, thread_id, min_position=hidden.json()["position"])
    assert [c["id"] for c in view["comments"]] == [ids[1]] and view["count"] == 1
    assert in_queue(api, thread_id, ids[0], "spam") is not None
    rejected = act(api, thread_id, ids[1], "reject", ADMIN)
    assert rejected.status_code == 200
    assert read(api, thread_id, min_position=rejected.json()["position"])["count"] == 0


def test_the_policy_refuses_banned_words_and_duplicates_and_holds_for_every_reason(
    api: httpx.Client, thread_id: str
) -> None:
    refused = post(api, thread_id, "Buy VIAGRA now")
    assert refused.status_code == 422
    assert refused.json()["error"] == {
        "code": "banned_words",
        "message": refused.json()["error"]["message"],
        "field": "body",
    }
    first = post(api, thread_id, "a casino at https://a.example and https://b.example")
    assert first.json()["held_for"] == ["pre", "link_count", "suspect_word"]
    again = post(
        api,
        thread_id,
        "a casino at https://a.example and https://b.example \n",
        headers=bearer(first.json()["author_token"]),
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate"


def test_pinned_comments_come_first_in_every_sort(api: httpx.Client, thread_id: str) -> None:
    ids = []
    for body in ("oldest", "middle", "newest"):
        written = post(api, thread_id, body).json()
        ids.append(written["id"])
        act(api, thread_id, written["id"], "approve", ADMIN)
    pinned = act(api, thread_id, ids[1], "pin", ADMIN)
    assert pinned.status_code == 200
    position = pinned.json()["position"]
    for sort, rest in (
        ("oldest", [ids[0], ids[2]]),
        ("newest", [ids[2], ids[0]]),
        ("top", [ids[0], ids[2]]),
    ):
        view = read(api, thread_id, sort=sort, min_position=position)
        assert [c["id"] for c in view["comments"]] == [ids[1], *rest], sort
        assert [c["pinned"] for c in view["comments"]] == [True, False, False]
    first = read(api, thread_id, limit=1, min_position=position)
    assert [c["id"] for c in first["comments"]] == [ids[1], ids[0]]  # pins on top of `limit`
    second = read(api, thread_id, limit=1, cursor=first["next_cursor"])
    assert [c["id"] for c in second["comments"]] == [ids[2]]
    unpinned = act(api, thread_id, ids[1], "unpin", ADMIN)
    view = read(api, thread_id, min_position=unpinned.json()["position"])
    assert [c["id"] for c in view["comments"]] == ids


def test_reports_fill_the_reported_queue_once_per_reader_until_a_verdict(
    api: httpx.Client, thread_id: str
) -> None:
    written = post(api, thread_id, "Controversial").json()
    comment_id = written["id"]
    act(api, thread_id, comment_id, "approve", ADMIN)
    readers = [bearer(api.post("/api/v1/session").json()["token"]) for _ in range(2)]
    for reader in readers:
        reported = act(api, thread_id, comment_id, "report", reader, reason="rude")
        assert reported.status_code == 200, reported.text
    again = act(api, thread_id, comment_id, "report", readers[0], reason="rude")
    assert again.json()["result"] == "already_reported"
    assert act(api, thread_id, comment_id, "report", readers[0]).status_code == 422  # no reason
    deadline = time.monotonic() + 10
    item = in_queue(api, thread_id, comment_id, "reported")
    while item is not None and item["reports"] < 2 and time.monotonic() < deadline:
        item = in_queue(api, thread_id, comment_id, "reported")
    assert item is not None and item["reports"] == 2 and item["report_reasons"] == ["rude", "rude"]
    assert read(api, thread_id)["count"] == 1  # a reported comment stays up
    kept = act(api, thread_id, comment_id, "approve", ADMIN)
    assert kept.status_code == 200 and "result" not in kept.json()
    deadline = time.monotonic() + 10
    while in_queue(api, thread_id, comment_id, "reported") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(i["id"] != comment_id for i in queue(api, "reported")["items"])


def test_a_locked_thread_refuses_posts_and_likes_and_says_so(
    api: httpx.Client, thread_id: str
) -> None:
    written = post(api, thread_id, "Before the lock").json()
    act(api, thread_id, written["id"], "approve", ADMIN)
    reader = bearer(api.post("/api/v1/session").json()["token"])
    assert (
        api.put(f"/api/v1/threads/{thread_id}/lock", params=SITE, headers=reader).status_code == 403
    )
    locked = api.put(f"/api/v1/threads/{thread_id}/lock", params=SITE, headers=ADMIN)
    assert locked.status_code == 200, locked.text
    assert read(api, thread_id, min_position=locked.json()["position"])["locked"] is True
    refused = post(api, thread_id, "After the lock")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "thread_locked"
    like = api.put(
        f"/api/v1/threads/{thread_id}/comments/{written['id']}/like", params=SITE, headers=reader
    )
    assert like.status_code == 409 and like.json()["error"]["code"] == "thread_locked"
    unlocked = api.delete(f"/api/v1/threads/{thread_id}/lock", params=SITE, headers=ADMIN)
    assert read(api, thread_id, min_position=unlocked.json()["position"])["locked"] is False
    assert post(api, thread_id, "After the unlock").status_code == 201


def test_first_time_mode_publishes_an_author_once_one_comment_was_approved(
    api: httpx.Client, thread_id: str
) -> None:
    first = post(api, thread_id, "Hello, new here", site="firsttime")
    assert first.json()["held_for"] == ["first_time"]
    author = bearer(first.json()["author_token"])
    approved = api.post(
        f"/api/v1/threads/{thread_id}/comments/{first.json()['id']}/approve",
        params={"site": "firsttime"},
        headers=ADMIN,
    )
    assert approved.status_code == 200
    deadline = time.monotonic() + 10
    while True:  # the verdict reaches the moderation read model, which the processor asks
        second = post(
            api,
            f"{thread_id}-2",
            f"Back again {time.monotonic()}",
            site="firsttime",
            headers=author,
        )
        if second.json()["status"] == "approved" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert second.json()["status"] == "approved"
    disposable = post(
        api, thread_id, "Throwaway", site="firsttime", author={"email": "x@mailinator.com"}
    )
    assert disposable.status_code == 422
    assert disposable.json()["error"]["field"] == "email"


def wait_for(condition: Any, seconds: float = 10) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.05)
    return condition()


def test_a_banned_identity_is_refused_until_unbanned_and_kept_only_as_a_hash(
    api: httpx.Client, thread_id: str, stack: Any
) -> None:
    written = post(api, f"{thread_id}-a", "Before my ban")
    author = written.json()["author_token"]
    identity = api.get("/api/v1/me", params=SITE, headers=bearer(author)).json()["identity"]
    act(api, f"{thread_id}-a", written.json()["id"], "approve", ADMIN)
    reader = bearer(api.post("/api/v1/session").json()["token"])
    refused = api.post("/api/v1/bans", params=SITE, json={"identity": identity}, headers=reader)
    assert refused.status_code == 403
    assert api.post("/api/v1/bans", params=SITE, json={}, headers=ADMIN).status_code == 422
    banned = api.post(
        "/api/v1/bans",
        params=SITE,
        json={"identity": identity, "reason": "spam run", "hide_comments": True},
        headers=ADMIN,
    )
    assert banned.status_code == 201, banned.text
    ban_id = banned.json()["id"]
    listed = wait_for(
        lambda: [
            b
            for b in api.get("/api/v1/bans", params=SITE, headers=ADMIN).json()["bans"]
            if b["id"] == ban_id
        ]
    )
    assert listed and listed[0]["kinds"] == ["identity"] and listed[0]["reason"] == "spam run"
    # Kept as a keyed hash only: the identity is nowhere in the moderation model in clear.
    store = stack.client()
    keys = list(store.scan_iter("cs:*:moderation:*:moderated:ban*"))
    assert keys
    for key in keys:
        assert identity not in str(store.hgetall(key))
    store.close()

    def refused_post() -> bool:
        answer = post(api, thread_id, f"while banned {time.monotonic()}", headers=bearer(author))
        return answer.status_code == 403 and answer.json()["error"]["code"] == "banned"

    assert wait_for(refused_post)
    # hide_comments: the identity's published comment is rejected too.
    assert wait_for(lambda: read(api, f"{thread_id}-a")["count"] == 0)
    unbanned = api.delete(f"/api/v1/bans/{ban_id}", params=SITE, headers=ADMIN)
    assert unbanned.status_code == 200, unbanned.text
    assert api.delete(f"/api/v1/bans/{ban_id}", params=SITE, headers=ADMIN).status_code == 404
    assert wait_for(
        lambda: (
            post(api, thread_id, f"after {time.monotonic()}", headers=bearer(author)).status_code
            == 201
        )
    )


def test_bans_by_email_and_by_address_and_their_expiry(api: httpx.Client, thread_id: str) -> None:
    by_email = api.post(
        "/api/v1/bans", params=SITE, json={"email": "Troll@Example.org"}, headers=ADMIN
    )
    assert by_email.status_code == 201

    def email_refused() -> bool:
        answer = post(
            api, thread_id, f"hi {time.monotonic()}", author={"email": "troll@example.org"}
        )
        return answer.status_code == 403

    assert wait_for(email_refused)
    assert (
        post(
            api, thread_id, f"hi {time.monotonic()}", author={"email": "fine@example.org"}
        ).status_code
        == 201
    )
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3))
    by_address = api.post(
        "/api/v1/bans", params=SITE, json={"address": "127.0.0.1", "until": until}, headers=ADMIN
    )
    assert by_address.status_code == 201, by_address.text
    assert wait_for(lambda: post(api, thread_id, f"x {time.monotonic()}").status_code == 403)
    # The ban ends by itself at `until` (checked at each post, nothing to lift).
    assert wait_for(lambda: post(api, thread_id, f"y {time.monotonic()}").status_code == 201, 10)
    api.delete(f"/api/v1/bans/{by_email.json()['id']}", params=SITE, headers=ADMIN)


def test_three_reports_hold_a_published_comment_for_the_moderators(
    api: httpx.Client, thread_id: str
) -> None:
    written = post(api, thread_id, "Provocative").json()
    approved = act(api, thread_id, written["id"], "approve", ADMIN)
    assert read(api, thread_id, min_position=approved.json()["position"])["count"] == 1
    for _ in range(3):  # the default hold_after_reports
        reader = bearer(api.post("/api/v1/session").json()["token"])
        last = act(api, thread_id, written["id"], "report", reader, reason="offensive")
        assert last.status_code == 200
    view = read(api, thread_id, min_position=last.json()["position"])
    assert view["count"] == 0 and view["comments"] == []
    # (the moderation projection may still show it as held before its approval a moment)
    item = in_queue(api, thread_id, written["id"], "pending", lambda item: item["reports"] == 3)
    assert item is not None and item["held_for"] == ["reported"] and item["reports"] == 3


def test_a_thread_closes_itself_auto_close_days_after_its_first_comment(
    api: httpx.Client, stack: Any
) -> None:
    """Site "closing" closes threads 30 days after their first comment: a WordPress import
    keeps its 2024 comments' times, so its threads are closed today."""
    imported = stack.command(
        "import", "wxr", str(FIXTURES / "wordpress.wxr.xml"), "--site", "closing"
    )
    assert imported.returncode == 0, imported.stderr
    thread = "i-dream-of-ketamine"
    view = wait_for(lambda: (v := read(api, thread, site="closing"))["count"] and v)
    assert view["locked"] is True
    refused = post(api, thread, "Too late", site="closing")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "thread_locked"
    # A new thread on the same site is open.
    fresh = post(api, f"fresh-{time.monotonic_ns()}", "Just in time", site="closing")
    assert fresh.status_code == 201, fresh.text
