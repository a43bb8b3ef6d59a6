"""Every write endpoint x every kind of caller: exactly the intended cells succeed."""

import time

import httpx
import jwt
import pytest

from tests.processes import SSO_SITE_SECRET

SITE = "sso"
CALLERS = ["nobody", "reader", "author", "other_author", "sso_user", "admin"]
# What each caller gets, per action on a comment written by "author".
EXPECTED = {
    "post": dict.fromkeys(CALLERS, 201),
    "reply": dict.fromkeys(CALLERS, 201),
    "edit": {
        "nobody": 401,
        "reader": 403,
        "author": 200,
        "other_author": 403,
        "sso_user": 403,
        "admin": 200,
    },
    "delete": {
        "nobody": 401,
        "reader": 403,
        "author": 200,
        "other_author": 403,
        "sso_user": 403,
        "admin": 200,
    },
    "like": {"nobody": 401} | dict.fromkeys(CALLERS[1:], 200),
    "unlike": {"nobody": 401} | dict.fromkeys(CALLERS[1:], 200),
}


@pytest.fixture(scope="module")
def tokens(stack) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=stack.base_url, timeout=10) as api:

        def new_author() -> str:
            return api.post(
                f"/api/v1/threads/matrix-setup/comments?site={SITE}", json={"body": "setup"}
            ).json()["author_token"]

        sso = jwt.encode(
            {"sub": "matrix", "aud": SITE, "exp": int(time.time()) + 3600},
            SSO_SITE_SECRET,
            algorithm="HS256",
        )
        return {
            "nobody": None,
            "reader": api.post("/api/v1/session").json()["token"],
            "author": new_author(),
            "other_author": new_author(),
            "sso_user": sso,
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
        "like": lambda: api.put(f"{target}/like", params=site, headers=headers(caller)),
        "unlike": lambda: api.delete(f"{target}/like", params=site, headers=headers(caller)),
    }[action]
    response = call()
    assert response.status_code == EXPECTED[action][caller], response.text
