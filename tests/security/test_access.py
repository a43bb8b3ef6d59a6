"""Identity and access over real HTTP: host-site SSO, CORS by site, who may do what, abuse."""

import time
import uuid

import httpx
import jwt
import pytest

from tests.processes import SSO_SITE_SECRET, STRICT_SSO_SECRET


def sso_token(secret: str = SSO_SITE_SECRET, **claims: object) -> str:
    body = {
        "sub": "user-1",
        "name": "Sam Sso",
        "aud": "sso",
        "exp": int(time.time()) + 300,
    } | claims
    return jwt.encode(body, secret, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def comments(thread: str, site: str) -> str:
    return f"/api/v1/threads/{thread}/comments?site={site}"


def test_a_host_site_user_comments_under_their_own_name(api: httpx.Client, thread_id: str) -> None:
    written = api.post(
        comments(thread_id, "sso"),
        json={"body": "signed in"},
        headers=bearer(sso_token(url="https://sam.example")),
    )
    assert written.status_code == 201, written.text
    assert "author_token" not in written.json()
    view = api.get(
        f"/api/v1/threads/{thread_id}",
        params={"site": "sso", "min_position": written.json()["position"]},
    ).json()
    assert view["comments"][0]["author"] == {
        "name": "Sam Sso",
        "avatar": view["comments"][0]["author"]["avatar"],
        "website": "https://sam.example",
    }


@pytest.mark.parametrize(
    "token",
    [
        jwt.encode(
            {"sub": "x", "aud": "sso", "exp": int(time.time()) + 300}, None, algorithm="none"
        ),
        sso_token(secret="another-sites-secret-also-32-bytes-long"),
        sso_token(secret=STRICT_SSO_SECRET),
        sso_token(exp=int(time.time()) - 120),
        sso_token(aud="strict"),
        jwt.encode({"sub": "x", "aud": "sso"}, SSO_SITE_SECRET, algorithm="HS256"),
    ],
    ids=["alg-none", "unknown-secret", "other-sites-secret", "expired", "wrong-aud", "no-exp"],
)
def test_bad_sso_tokens_are_refused(api: httpx.Client, thread_id: str, token: str) -> None:
    response = api.post(comments(thread_id, "sso"), json={"body": "x"}, headers=bearer(token))
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_token"


def test_a_site_without_sso_refuses_sso_tokens(api: httpx.Client, thread_id: str) -> None:
    response = api.post(
        comments(thread_id, "default"), json={"body": "x"}, headers=bearer(sso_token(aud="default"))
    )
    assert response.status_code == 401


def test_cors_answers_only_a_sites_own_origins(api: httpx.Client, thread_id: str) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    url = comments(thread_id, "strict")
    allowed = api.options(url, headers={"Origin": "https://allowed.example"} | preflight)
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == "https://allowed.example"
    assert "Origin" in allowed.headers["vary"]
    other = api.options(url, headers={"Origin": "https://evil.example"} | preflight)
    assert other.status_code == 403 and "access-control-allow-origin" not in other.headers
    read = api.get(
        f"/api/v1/threads/{thread_id}?site=strict", headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in read.headers
    anywhere = api.get(f"/api/v1/threads/{thread_id}", headers={"Origin": "https://any.example"})
    assert anywhere.headers["access-control-allow-origin"] == "https://any.example"
    assert (
        api.get("/widget.js", headers={"Origin": "https://x.example"}).headers[
            "access-control-allow-origin"
        ]
        == "*"
    )


def test_posts_and_likes_are_rate_limited_and_spoofed_forwarding_changes_nothing(
    api: httpx.Client,
) -> None:
    thread = f"limits-{uuid.uuid4().hex[:8]}"
    statuses = []
    for n in range(5):
        response = api.post(
            comments(thread, "strict"),
            json={"body": f"n{n}"},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        )
        statuses.append(response.status_code)
    assert statuses[:3] == [201, 201, 201] and statuses[3:] == [429, 429]
    limited = api.post(comments(thread, "strict"), json={"body": "again"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"]["code"] == "rate_limited"


def test_likes_count_once_per_identity_and_are_rate_limited(api: httpx.Client) -> None:
    thread = f"likes-{uuid.uuid4().hex[:8]}"
    comment = api.post(comments(thread, "likes"), json={"body": "like me"}).json()["id"]
    url = f"/api/v1/threads/{thread}/comments/{comment}/like?site=likes"
    reader = bearer(api.post("/api/v1/session").json()["token"])
    first, second, third = (api.put(url, headers=reader) for _ in range(3))
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["result"] == "already_liked"
    assert third.status_code == 429 and third.headers["retry-after"]
    view = api.get(
        f"/api/v1/threads/{thread}",
        params={"site": "likes", "min_position": first.json()["position"]},
    ).json()
    assert view["comments"][0]["likes"]["count"] == 1


def test_bot_checks_of_the_form(api: httpx.Client, thread_id: str) -> None:
    url = comments(thread_id, "sso")
    trap = api.post(url, json={"body": "x", "hp": "http://spam.example"})
    assert trap.status_code == 400 and trap.json()["error"]["code"] == "rejected_as_spam"
    strict = comments(thread_id, "strict")
    fast = api.post(strict, json={"body": "x", "elapsed_ms": 200})
    assert fast.status_code == 400 and fast.json()["error"]["code"] == "too_fast"
