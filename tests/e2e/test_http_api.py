"""The public HTTP API over real HTTP, with every service running as its own process."""

import base64
import json

import httpx
import pytest
import redis as sync_redis
import yaml

from storage.keys import PartitionKeys, partition_of
from tests.conftest import TEST_PARTITIONS
from tests.processes import Stack, wait_until


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post(api: httpx.Client, thread: str, body: str = "Hello", **fields: object) -> httpx.Response:
    return api.post(f"/api/v1/threads/{thread}/comments", json={"body": body, **fields})


def read(api: httpx.Client, thread: str, position: str | None = None, **params) -> dict:  # type: ignore[no-untyped-def]
    if position:
        params["min_position"] = position
    response = api.get(f"/api/v1/threads/{thread}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def session(api: httpx.Client) -> str:
    response = api.post("/api/v1/session")
    assert response.status_code == 201
    return response.json()["token"]


def test_post_reply_and_read_back_the_tree(api: httpx.Client, thread_id: str) -> None:
    first = api.post(
        f"/api/v1/threads/{thread_id}/comments",
        json={
            "body": "I **loved** this post",
            "author": {
                "name": "Alexis Rose",
                "email": "a@example.org",
                "website": "https://a.example",
            },
            "title": "I dream of ketamine",
            "url": "https://blog.example/ketamine",
        },
    )
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["id"] and created["position"] and created["author_token"]
    reply = api.post(
        f"/api/v1/threads/{thread_id}/comments",
        json={"body": "Thank you", "parent_id": created["id"]},
        headers=bearer(created["author_token"]),
    )
    assert reply.status_code == 201, reply.text
    assert "author_token" not in reply.json()
    view = read(api, thread_id, reply.json()["position"])
    assert view["title"] == "I dream of ketamine" and view["url"] == "https://blog.example/ketamine"
    assert view["count"] == 2
    [top] = view["comments"]
    assert top["author"] == {
        "name": "Alexis Rose",
        "avatar": top["author"]["avatar"],
        "website": "https://a.example",
    }
    assert "a@example.org" not in str(view)
    assert top["html"] == "<p>I <strong>loved</strong> this post</p>\n"
    assert [r["html"] for r in top["replies"]] == ["<p>Thank you</p>\n"]
    assert top["likes"] == {"count": 0, "liked_by_me": False}


def test_reply_to_a_missing_parent_is_a_4xx_with_its_code(
    api: httpx.Client, thread_id: str
) -> None:
    post(api, thread_id)
    response = api.post(
        f"/api/v1/threads/{thread_id}/comments", json={"body": "hm", "parent_id": "nosuchparent"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "parent_not_found"
    assert response.json()["error"]["field"] == "parent_id"


def test_bad_input_names_the_field(api: httpx.Client, thread_id: str) -> None:
    cases = [
        ({"body": "  "}, "body"),
        ({"body": "x", "author": {"website": "ftp://x"}}, "author.website"),
        ({"body": "x", "author": {"name": "n" * 81}}, "author.name"),
    ]
    for payload, field in cases:
        response = api.post(f"/api/v1/threads/{thread_id}/comments", json=payload)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == field
    assert api.get("/api/v1/threads/bad%20id").status_code == 422
    broken = api.post(
        f"/api/v1/threads/{thread_id}/comments",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "invalid_json"
    huge = api.post(f"/api/v1/threads/{thread_id}/comments", json={"body": "x" * 70_000})
    assert huge.status_code == 413


def test_like_twice_counts_once_and_unlike(api: httpx.Client, thread_id: str) -> None:
    created = post(api, thread_id, author={"name": "Moira"}).json()
    comment = created["id"]
    like_url = f"/api/v1/threads/{thread_id}/comments/{comment}/like"
    assert api.put(like_url).status_code == 401
    reader = session(api)
    first = api.put(like_url, headers=bearer(reader))
    second = api.put(like_url, headers=bearer(reader))
    assert first.status_code == 200 and second.status_code == 200
    assert second.json()["result"] == "already_liked"
    view = read(api, thread_id, first.json()["position"])
    assert view["comments"][0]["likes"]["count"] == 1
    mine = api.get(
        f"/api/v1/threads/{thread_id}",
        params={"min_position": first.json()["position"]},
        headers=bearer(reader),
    ).json()
    assert mine["comments"][0]["likes"] == {"count": 1, "liked_by_me": True}
    by_author = api.put(like_url, headers=bearer(created["author_token"]))
    read(api, thread_id, by_author.json()["position"])
    likers = api.get(f"/api/v1/threads/{thread_id}/comments/{comment}/likes", params={"limit": 1})
    first_page = likers.json()
    assert first_page["count"] == 2 and first_page["likers"][0]["name"] is None
    rest = api.get(
        f"/api/v1/threads/{thread_id}/comments/{comment}/likes",
        params={"cursor": first_page["next_cursor"]},
    ).json()
    assert [liker["name"] for liker in rest["likers"]] == ["Moira"] and rest["next_cursor"] is None
    assert api.get(f"/api/v1/threads/{thread_id}/comments/nosuch/likes").status_code == 404
    unliked = api.delete(like_url, headers=bearer(reader))
    assert unliked.status_code == 200
    assert read(api, thread_id, unliked.json()["position"])["comments"][0]["likes"]["count"] == 1


def test_edit_by_the_author_and_refusal_for_another(api: httpx.Client, thread_id: str) -> None:
    created = post(api, thread_id, "first draft").json()
    url = f"/api/v1/threads/{thread_id}/comments/{created['id']}"
    other = api.patch(url, json={"body": "hijacked"}, headers=bearer(session(api)))
    assert other.status_code == 403 and other.json()["error"]["code"] == "not_author"
    edited = api.patch(url, json={"body": "final _text_"}, headers=bearer(created["author_token"]))
    assert edited.status_code == 200, edited.text
    [comment] = read(api, thread_id, edited.json()["position"])["comments"]
    assert comment["html"] == "<p>final <em>text</em></p>\n" and comment["edited_at"]


def test_the_edit_form_gets_the_source_from_the_log_not_from_a_read_model(
    api: httpx.Client, stack: Stack, thread_id: str
) -> None:
    created = post(api, thread_id, "first *draft* 7f3a").json()
    token = created["author_token"]
    url = f"/api/v1/threads/{thread_id}/comments/{created['id']}"

    def source(headers: dict[str, str], position: str) -> httpx.Response:
        return api.get(f"{url}/source", params={"min_position": position}, headers=headers)

    first = source(bearer(token), created["position"])
    assert first.status_code == 200, first.text
    assert first.json() == {
        "id": created["id"],
        "markup": "markdown",
        "source": "first *draft* 7f3a",
    }
    edited = api.patch(url, json={"body": "second **take** 9c1e"}, headers=bearer(token)).json()
    assert source(bearer(token), edited["position"]).json()["source"] == "second **take** 9c1e"
    refused = source(bearer(session(api)), edited["position"])
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_author"
    assert source({}, edited["position"]).status_code == 401
    missing = api.get(
        f"/api/v1/threads/{thread_id}/comments/cnosuchcomment/source", headers=bearer(token)
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "comment_not_found"

    # The author's page marks the comment as theirs, without its source; the stored record
    # holds where the source is in the log, not the source.
    [mine] = read_as(api, thread_id, token, edited["position"])["comments"]
    assert mine["mine"] is True and "source" not in mine
    keys = PartitionKeys(partition_of("default", thread_id, TEST_PARTITIONS))
    store = stack.client()
    record = store.hget(
        keys.projection("thread_view", 0).comments("default", thread_id), mine["id"]
    )
    assert record is not None and "7f3a" not in record and "9c1e" not in record
    assert json.loads(record)["source_at"] == edited["position"]


def read_as(api: httpx.Client, thread: str, token: str, position: str) -> dict:  # type: ignore[type-arg]
    response = api.get(
        f"/api/v1/threads/{thread}", params={"min_position": position}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_delete_shows_deleted_and_keeps_replies(api: httpx.Client, thread_id: str) -> None:
    parent = post(api, thread_id, "parent").json()
    reply = post(api, thread_id, "child", parent_id=parent["id"]).json()
    url = f"/api/v1/threads/{thread_id}/comments/{parent['id']}"
    assert api.delete(url).status_code == 401
    deleted = api.delete(url, headers=bearer(parent["author_token"]))
    assert deleted.status_code == 200
    view = read(api, thread_id, deleted.json()["position"])
    assert view["count"] == 1
    [shown] = view["comments"]
    assert shown["status"] == "deleted" and shown["html"] == "" and shown["author"]["name"] is None
    assert [r["id"] for r in shown["replies"]] == [reply["id"]]
    liked = api.put(f"{url}/like", headers=bearer(session(api)))
    assert liked.status_code == 409 and liked.json()["error"]["code"] == "comment_deleted"


def test_counts_for_listing_pages(api: httpx.Client, thread_id: str) -> None:
    other = thread_id + "-other"
    last = None
    for _ in range(3):
        last = post(api, thread_id).json()["position"]
    read(api, thread_id, last)
    counts = api.get("/api/v1/counts", params=[("thread", thread_id), ("thread", other)])
    assert counts.status_code == 200
    assert counts.json() == {thread_id: 3, other: 0}


def test_min_position_reads_your_write(api: httpx.Client, thread_id: str) -> None:
    for n in range(5):
        written = post(api, thread_id, f"comment {n}").json()
        view = read(api, thread_id, written["position"])
        assert view["count"] == n + 1
        assert written["id"] in [c["id"] for c in view["comments"]]


def test_paging_with_cursor(api: httpx.Client, thread_id: str) -> None:
    ids = [post(api, thread_id, f"n{n}").json() for n in range(5)]
    read(api, thread_id, ids[-1]["position"])
    page = read(api, thread_id, limit=2)
    second = read(api, thread_id, limit=2, cursor=page["next_cursor"])
    assert [c["id"] for c in page["comments"] + second["comments"]] == [i["id"] for i in ids[:4]]
    bad = api.get(f"/api/v1/threads/{thread_id}", params={"cursor": "nonsense"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "cursor"


def test_queued_while_the_processor_is_down_then_processed(
    api: httpx.Client, stack: Stack, thread_id: str
) -> None:
    processor = stack.services["processor"]
    processor.stop()
    try:
        response = post(api, thread_id, "written while the processor is down")
        assert response.status_code == 202, response.text
        queued = response.json()
        status = api.get(queued["status_url"])
        assert status.status_code == 200 and status.json()["status"] == "pending"
    finally:
        processor.start()

    def accepted() -> bool:
        return api.get(queued["status_url"]).json()["status"] == "accepted"

    wait_until(accepted, timeout=30, what="the queued command to be processed")
    outcome = api.get(queued["status_url"]).json()
    view = read(api, thread_id, outcome["position"])
    assert [c["id"] for c in view["comments"]] == [outcome["id"]]
    assert api.get("/api/v1/commands/never-sent").status_code == 404


def test_operations_endpoints(api: httpx.Client) -> None:
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True, ready.text
    metrics = api.get("/metrics").text
    assert "commentstream_http_requests_total" in metrics
    assert 'commentstream_dead_letters{kind="commands"}' in metrics
    assert "/api/v1/threads/{thread}/comments" in api.get("/openapi.json").json()["paths"]
    asyncapi = api.get("/asyncapi.json").json()
    assert asyncapi["asyncapi"].startswith("3.") and "commands-0" in asyncapi["channels"]
    assert api.get("/asyncapi").json() == asyncapi
    as_yaml = api.get("/asyncapi.yaml")
    assert as_yaml.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(as_yaml.text) == asyncapi


def read_sse(lines, wanted: int) -> list[dict]:  # type: ignore[no-untyped-def]
    """The next `wanted` events from an SSE line iterator, as {"id", "event", "data"}."""
    events: list[dict] = []
    current: dict = {}
    for line in lines:
        if line.startswith(("id:", "event:", "data:")):
            name, _, value = line.partition(":")
            current[name] = json.loads(value) if name == "data" else value.strip()
        elif line == "" and "event" in current:
            events.append(current)
            current = {}
            if len(events) == wanted:
                return events
    raise AssertionError("the stream ended early")


def test_live_events_and_resuming_with_last_event_id(
    api: httpx.Client, stack: Stack, thread_id: str
) -> None:
    first = post(api, thread_id, "before anyone listens").json()
    live_url = f"{stack.base_url}/api/v1/threads/{thread_id}/live"
    with httpx.Client(timeout=20) as listener, listener.stream("GET", live_url) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next(lines).startswith("retry:")
        new = post(api, thread_id, "hello *live*").json()
        like = api.put(
            f"/api/v1/threads/{thread_id}/comments/{first['id']}/like",
            headers=bearer(session(api)),
        )
        assert like.status_code == 200
        comment, likes = read_sse(lines, 2)
    assert comment["event"] == "comment"
    assert comment["data"]["comment"]["id"] == new["id"]
    assert comment["data"]["comment"]["html"] == "<p>hello <em>live</em></p>\n"
    assert comment["data"]["count"] == 2
    assert likes["event"] == "likes" and likes["data"] == {"id": first["id"], "count": 1}

    headers = {"Last-Event-ID": comment["id"]}
    with (
        httpx.Client(timeout=20) as listener,
        listener.stream("GET", live_url, headers=headers) as stream,
    ):
        lines = stream.iter_lines()
        assert next(lines).startswith("retry:")
        [resumed] = read_sse(lines, 1)
    assert resumed == likes


def test_admin_endpoints_hand_over_and_erase_a_persons_data(
    api: httpx.Client, thread_id: str
) -> None:
    written = post(api, thread_id, "my private words", author={"name": "Priya Private"}).json()
    reply = post(api, thread_id, "a reply stays", parent_id=written["id"]).json()
    read(api, thread_id, reply["position"])
    me = api.post("/api/v1/session").json()  # any token: only the admin key opens these
    payload = written["author_token"].split(".")[0]
    identity = json.loads(base64.urlsafe_b64decode(payload + "=="))["sub"]
    url = f"/api/v1/admin/authors/{identity}"
    assert api.get(url).status_code == 403
    assert api.get(url, headers=bearer(me["token"])).status_code == 403
    admin = bearer("e2e-admin-key")
    data = api.get(url, headers=admin).json()
    assert data["comments"][0]["versions"][0]["body"] == "my private words"
    erased = api.delete(url, headers=admin)
    assert erased.status_code == 200 and erased.json()["key_deleted"] is True

    def redacted() -> bool:
        [comment] = read(api, thread_id)["comments"]
        return comment["author"]["name"] == "[deleted]"

    wait_until(redacted, timeout=20, what="the erasure to reach the thread view")
    [comment] = read(api, thread_id)["comments"]
    assert (
        comment["html"] == "<p>[deleted]</p>"
        and comment["replies"][0]["html"] == "<p>a reply stays</p>\n"
    )


def test_limits_refuse_big_deep_and_control_laden_input(api: httpx.Client, thread_id: str) -> None:
    url = f"/api/v1/threads/{thread_id}/comments"

    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"body": "'
        for _ in range(80):
            yield b"x" * 1024
        yield b'"}'

    chunked = api.post(url, content=chunks(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413 and chunked.json()["error"]["code"] == "too_large"
    deep = api.post(
        url,
        content=b'{"body": "x", "author": ' + b"[" * 200 + b"]" * 200 + b"}",
        headers={"content-type": "application/json"},
    )
    assert deep.status_code == 400 and deep.json()["error"]["code"] == "too_deep"
    long_id = api.get("/api/v1/threads/" + "t" * 129)
    assert long_id.status_code == 422 and long_id.json()["error"]["field"] == "thread"
    written = post(api, thread_id, "be\x00ll\x07 ring\r\nnext line", author={"name": "Na\x1bme"})
    assert written.status_code == 201
    [comment] = read(api, thread_id, written.json()["position"])["comments"]
    assert comment["html"] == "<p>bell ring\nnext line</p>\n"
    assert comment["author"]["name"] == "Name"


def test_responses_carry_strict_headers_and_the_widget_is_cacheable(api: httpx.Client) -> None:
    thread = api.get("/api/v1/threads/headers")
    assert thread.headers["x-content-type-options"] == "nosniff"
    assert thread.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert thread.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    demo = api.get("/demo")
    assert "script-src 'self'" in demo.headers["content-security-policy"]
    widget = api.get("/widget.js")
    etag = widget.headers["etag"]
    assert widget.headers["x-content-type-options"] == "nosniff"
    again = api.get("/widget.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""


def test_the_plain_asgi_page_read_answers_as_the_fastapi_route_does(
    api: httpx.Client, thread_id: str
) -> None:
    """services/gateway/fast_reads.py answers anonymous page reads itself; a parameter it does
    not know sends the same read through FastAPI. Both must give the same bytes."""
    first = post(api, thread_id, "first *one*").json()
    post(api, thread_id, "a reply", parent_id=first["id"])
    second = post(api, thread_id, "second").json()
    token = session(api)
    liked = api.put(
        f"/api/v1/threads/{thread_id}/comments/{second['id']}/like", headers=bearer(token)
    ).json()
    deleted = post(api, thread_id, "to delete").json()
    gone = api.request(
        "DELETE", f"/api/v1/threads/{thread_id}/comments/{deleted['id']}", headers=bearer(token)
    )
    read(api, thread_id, liked["position"])
    assert gone.status_code in (200, 403)
    before = page_reads(api)
    for params in ({}, {"limit": 1}, {"sort": "newest", "limit": 2}, {"sort": "top"}):
        fast = api.get(f"/api/v1/threads/{thread_id}", params=params)
        routed = api.get(f"/api/v1/threads/{thread_id}", params=params | {"through": "fastapi"})
        assert fast.status_code == routed.status_code == 200
        assert fast.content == routed.content
        assert fast.headers["content-type"] == routed.headers["content-type"]
        assert fast.headers["x-content-type-options"] == "nosniff"
        cursor = fast.json()["next_cursor"]
        if cursor:
            after = {**params, "cursor": cursor}
            assert (
                api.get(f"/api/v1/threads/{thread_id}", params=after).content
                == api.get(
                    f"/api/v1/threads/{thread_id}", params=after | {"through": "fastapi"}
                ).content
            )
    after = page_reads(api)
    assert after["asgi"] - before["asgi"] >= 6 and after["fastapi"] - before["fastapi"] >= 6
    assert api.get(f"/api/v1/threads/{thread_id}", params={"limit": 0}).status_code == 422
    bad = api.get(f"/api/v1/threads/{thread_id}", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "cursor"


def page_reads(api: httpx.Client) -> dict[str, float]:
    """Thread pages served so far, by the code path that answered (from /metrics)."""
    found = {"asgi": 0.0, "fastapi": 0.0}
    for line in api.get("/metrics").text.splitlines():
        if line.startswith("commentstream_thread_page_reads_total{"):
            path = line.split('path="', 1)[1].split('"', 1)[0]
            found[path] = float(line.rsplit(" ", 1)[1])
    return found


def test_the_plain_asgi_counts_answer_as_the_fastapi_route_does(
    api: httpx.Client, thread_id: str
) -> None:
    written = post(api, thread_id, "one").json()
    read(api, thread_id, written["position"])
    threads = [("thread", thread_id), ("thread", f"{thread_id}-empty"), ("thread", thread_id)]
    fast = api.get("/api/v1/counts", params=threads)
    routed = api.get("/api/v1/counts", params=[*threads, ("through", "fastapi")])
    assert fast.status_code == routed.status_code == 200
    assert fast.content == routed.content
    assert fast.json() == {thread_id: 1, f"{thread_id}-empty": 0}
    assert fast.headers["content-type"] == routed.headers["content-type"]
    assert api.get("/api/v1/counts", params={"thread": "bad id"}).status_code == 422
    assert api.get("/api/v1/counts").status_code == 422


@pytest.mark.single_server
def test_the_services_reach_the_embedded_server_over_its_unix_socket(stack: Stack) -> None:
    """As `commentstream up` starts them: the services' connections come over the socket
    (flag U in CLIENT LIST)."""
    store = sync_redis.Redis.from_url(stack.server.url, decode_responses=True)
    try:
        clients = store.client_list()
    finally:
        store.close()
    over_socket = [c for c in clients if "U" in c["flags"]]
    assert stack.server.socket_path.is_socket()
    assert len(over_socket) >= len(stack.services)  # a connection of each at least
