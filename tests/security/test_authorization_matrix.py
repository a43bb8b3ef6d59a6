"""Every write endpoint, and every read that is not public, x every kind of caller: exactly the
intended cells succeed."""

import time

import httpx
import jwt
import pytest

from tests.processes import SSO_SITE_SECRET

SITE = "sso"
CALLERS = ["nobody", "reader", "author", "other_author", "sso_user", "sso_moderator", "admin"]
MODERATORS = ("sso_moderator", "admin")


def moderators_only(ok: int = 200) -> dict[str, int]:
    return {"nobody": 401} | {c: ok if c in MODERATORS else 403 for c in CALLERS[1:]}


AUTHOR_OR_MODERATOR = {
    "nobody": 401,
    "reader": 403,
    "author": 200,
    "other_author": 403,
    "sso_user": 403,
    "sso_moderator": 200,
    "admin": 200,
}

# What each caller gets, per action on a comment written by "author".
EXPECTED = {
    "post": dict.fromkeys(CALLERS, 201),
    "reply": dict.fromkeys(CALLERS, 201),
    "edit": AUTHOR_OR_MODERATOR,
    "delete": AUTHOR_OR_MODERATOR,
    "source": AUTHOR_OR_MODERATOR,
    "like": {"nobody": 401} | dict.fromkeys(CALLERS[1:], 200),
    "unlike": {"nobody": 401} | dict.fromkeys(CALLERS[1:], 200),
    "report": {"nobody": 401} | dict.fromkeys(CALLERS[1:], 200),
    **{
        action: moderators_only()
        for action in ("approve", "reject", "spam", "pin", "unpin", "lock", "unlock")
    },
    "queue": moderators_only(),
    "history": moderators_only(),
    "ban": moderators_only(201),
    "bans": moderators_only(),
    "unban": {"nobody": 401} | {c: 404 if c in MODERATORS else 403 for c in CALLERS[1:]},
    "me": {"nobody": 401} | dict.fromkeys(CALLERS[1:], 200),
}


@pytest.fixture(scope="module")
def tokens(stack) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=stack.base_url, timeout=10) as api:

        def new_author() -> str:
            return api.post(
                f"/api/v1/threads/matrix-setup/comments?site={SITE}", json={"body": "setup"}
            ).json()["author_token"]

        def sso_token(subject: str, **claims: str) -> str:
            return jwt.encode(
                {"sub": subject, "aud": SITE, "exp": int(time.time()) + 3600, **claims},
                SSO_SITE_SECRET,
                algorithm="HS256",
            )

        return {
            "nobody": None,
            "reader": api.post("/api/v1/session").json()["token"],
            "author": new_author(),
            "other_author": new_author(),
            "sso_user": sso_token("matrix"),
            "sso_moderator": sso_token("matrix-moderator", role="moderator"),
            "admin": "e2e-admin-key",
        }


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("action", list(EXPECTED))
def test_authorization_matrix(
    api: httpx.Client, tokens: dict[str, str | None], thread_id: str, action: str, caller: str
) -> None:
    def headers(who: str) -> dict[str, str]:
        token = tokens[who]
        return {"Authorization": f"Bearer {token}"} if token else {}

    base = f"/api/v1/threads/{thread_id}/comments"
    site = {"site": SITE}
    written = api.post(base, params=site, json={"body": "by the author"}, headers=headers("author"))
    assert written.status_code == 201
    target = f"{base}/{written.json()['id']}"
    call = {
        "post": lambda: api.post(base, params=site, json={"body": "x"}, headers=headers(caller)),
        "reply": lambda: api.post(
            base,
            params=site,
            json={"body": "x", "parent_id": written.json()["id"]},
            headers=headers(caller),
        ),
        "edit": lambda: api.patch(
            target, params=site, json={"body": "changed"}, headers=headers(caller)
        ),
        "delete": lambda: api.delete(target, params=site, headers=headers(caller)),
        "source": lambda: api.get(
            f"{target}/source",
            params=site | {"min_position": written.json()["position"]},
            headers=headers(caller),
        ),
        "like": lambda: api.put(f"{target}/like", params=site, headers=headers(caller)),
        "unlike": lambda: api.delete(f"{target}/like", params=site, headers=headers(caller)),
        "report": lambda: api.post(
            f"{target}/report", params=site, json={"reason": "x"}, headers=headers(caller)
        ),
        **{
            verdict: (
                lambda verdict=verdict: api.post(
                    f"{target}/{verdict}", params=site, headers=headers(caller)
                )
            )
            for verdict in ("approve", "reject", "spam", "pin", "unpin")
        },
        "lock": lambda: api.put(
            f"/api/v1/threads/{thread_id}/lock", params=site, headers=headers(caller)
        ),
        "unlock": lambda: api.delete(
            f"/api/v1/threads/{thread_id}/lock", params=site, headers=headers(caller)
        ),
        "queue": lambda: api.get("/api/v1/moderation/queue", params=site, headers=headers(caller)),
        "history": lambda: api.get(
            "/api/v1/moderation/history",
            params=site | {"thread": thread_id, "comment_id": written.json()["id"]},
            headers=headers(caller),
        ),
        "ban": lambda: api.post(
            "/api/v1/bans",
            params=site,
            json={"identity": "anon:nobody-real"},
            headers=headers(caller),
        ),
        "bans": lambda: api.get("/api/v1/bans", params=site, headers=headers(caller)),
        "unban": lambda: api.delete("/api/v1/bans/nosuchban", params=site, headers=headers(caller)),
        "me": lambda: api.get("/api/v1/me", params=site, headers=headers(caller)),
    }[action]
    response = call()
    assert response.status_code == EXPECTED[action][caller], response.text
