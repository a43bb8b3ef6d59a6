"""100+ injection payloads through every text field: the text is kept as written, the HTML
served passes an allow-list check, and in a real browser none of them runs."""

import unicodedata
import uuid
from typing import Any

import httpx
import pytest

from tests.html_allow_list import markup_problems
from tests.security.payloads import PAYLOADS, WEBSITES

SITE = "sso"


def as_stored(text: str, keep: str = "\n\t") -> str:
    """What the server keeps of a text: NFC, without control characters (bodies keep line
    breaks and tabs, names nothing), trimmed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    normal = unicodedata.normalize("NFC", text)
    kept = "".join(c for c in normal if c in keep or unicodedata.category(c) != "Cc")
    return kept.strip()


@pytest.fixture(scope="module")
def injected(stack) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    # A thread of its own each time: the fixture is made again when the tests' order splits the
    # module's tests.
    thread = f"injection-corpus-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=stack.base_url, timeout=10) as api:
        token = None
        last = None
        for number, payload in enumerate(PAYLOADS):
            response = api.post(
                f"/api/v1/threads/{thread}/comments",
                params={"site": SITE},
                json={
                    "body": payload,
                    "author": {"name": payload[:80], "website": WEBSITES[number % len(WEBSITES)]},
                    "title": payload[:300],
                },
                headers={"Authorization": f"Bearer {token}"} if token else {},
            )
            assert response.status_code == 201, (payload, response.text)
            token = token or response.json()["author_token"]
            last = response.json()["position"]
        view = api.get(
            f"/api/v1/threads/{thread}",
            params={"site": SITE, "limit": 200, "min_position": last},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        answers = {
            comment["id"]: api.get(
                f"/api/v1/threads/{thread}/comments/{comment['id']}/source",
                params={"site": SITE},
                headers={"Authorization": f"Bearer {token}"},
            )
            for comment in view["comments"]
        }
        assert all(a.status_code == 200 for a in answers.values()), [
            a.text for a in answers.values() if a.status_code != 200
        ][:3]
        sources = {comment_id: answer.json()["source"] for comment_id, answer in answers.items()}
    return {"thread": thread, "view": view, "sources": sources}


def source_of(injected: dict[str, Any], comment_id: str) -> str:
    """What the edit form gets of a comment (its author asks)."""
    source: str = injected["sources"][comment_id]
    return source


def test_text_is_kept_as_written_and_html_passes_the_allow_list(injected: dict[str, Any]) -> None:
    view = injected["view"]
    assert view["title"] == as_stored(PAYLOADS[0][:300])
    shown = view["comments"]
    assert len(shown) == len(PAYLOADS)
    for number, (payload, comment) in enumerate(zip(PAYLOADS, shown, strict=True)):
        assert source_of(injected, comment["id"]) == as_stored(payload), payload
        assert comment["author"]["name"] == as_stored(payload[:80], keep="")
        assert comment["author"]["website"] == WEBSITES[number % len(WEBSITES)]
        assert markup_problems(comment["html"]) == [], (payload, comment["html"])


def test_nothing_runs_in_a_real_browser(open_reader: Any, injected: dict[str, Any]) -> None:
    reader = open_reader(injected["thread"], site=SITE)
    page = reader.page
    page.locator("article").nth(49).wait_for(timeout=20_000)
    page.get_by_role("button", name="Load more comments").click()  # the widget pages by 50
    page.locator("article").nth(len(PAYLOADS) - 1).wait_for(timeout=20_000)
    for link in page.locator("article a").all()[:50]:
        link.hover()
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None
    assert reader.dialogs == []
