"""Moderation in a real browser: the moderators' console (/moderate) and the widget's controls,
against the whole running system (site "moderated": pre-moderation, see tests/processes.py)."""

import json
import time
from typing import Any

import httpx
import jwt
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.test_widget import TIMEOUT, article, axe_violations, heading
from tests.processes import SSO_SITE_SECRET, Stack, wait_until

SITE = "moderated"
ADMIN_KEY = "e2e-admin-key"


def sso_token(subject: str, **claims: Any) -> str:
    return jwt.encode(
        {"sub": subject, "aud": SITE, "exp": int(time.time()) + 600, **claims},
        SSO_SITE_SECRET,
        algorithm="HS256",
    )


def hold(stack: Stack, thread: str, body: str, name: str) -> dict[str, Any]:
    """A comment the site's pre-moderation holds, posted over HTTP."""
    response = httpx.post(
        f"{stack.base_url}/api/v1/threads/{thread}/comments",
        params={"site": SITE},
        json={"body": body, "author": {"name": name}},
    )
    assert response.status_code == 201 and response.json()["status"] == "pending", response.text
    return response.json()  # type: ignore[no-any-return]


def open_console(browser: Any, stack: Stack, key: str = ADMIN_KEY, lang: str = "en") -> Page:
    page = browser.new_page(viewport={"width": 1100, "height": 1400}, bypass_csp=True)
    page.goto(f"{stack.base_url}/moderate?lang={lang}&site={SITE}")
    return page


def sign_in(page: Page, key: str = ADMIN_KEY) -> None:
    page.get_by_label("Admin key or single sign-on token").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("tab", name="Pending", exact=False)).to_be_visible(timeout=TIMEOUT)


def item(page: Page, text: str) -> Locator:
    return page.locator("article.item", has_text=text)


def test_a_held_comment_approved_in_the_console_appears_in_an_open_widget(
    browser: Any, open_reader: Any, stack: Stack, thread_id: str
) -> None:
    author = open_reader(thread_id, site=SITE).page
    form = author.get_by_role("form", name="Leave a Reply")
    form.get_by_label("Comment").fill("Held until approved")
    form.get_by_label("Name").fill("Patient Pat")
    form.get_by_role("button", name="Post Comment").click()
    own = article(author, "Held until approved")
    expect(own.get_by_text("Your comment is awaiting moderation.")).to_be_visible(timeout=TIMEOUT)
    expect(heading(author)).to_have_text("No thoughts on “A blog post”")

    reader = open_reader(thread_id, site=SITE).page
    expect(heading(reader)).to_have_text("No thoughts on “A blog post”", timeout=TIMEOUT)
    expect(article(reader, "Held until approved")).to_have_count(0)

    console = open_console(browser, stack)
    sign_in(console)
    queued = item(console, "Held until approved")
    expect(queued).to_contain_text("Patient Pat", timeout=TIMEOUT)
    expect(queued).to_contain_text("pre")
    queued.get_by_role("button", name="Approve").click()
    expect(queued).to_have_count(0, timeout=TIMEOUT)

    # Live, without a reload: the reader's widget gets the comment, the author's loses the note.
    expect(article(reader, "Held until approved")).to_be_visible(timeout=TIMEOUT)
    expect(heading(reader)).to_have_text("One thought on “A blog post”", timeout=TIMEOUT)
    expect(own.get_by_text("Your comment is awaiting moderation.")).to_have_count(
        0, timeout=TIMEOUT
    )
    console.close()


def test_bulk_reject_of_an_authors_comments_found_by_search(
    browser: Any, stack: Stack, thread_id: str
) -> None:
    for n in range(3):
        hold(stack, thread_id, f"bulk spam {n}", "Bulk Bob")
    kept = hold(stack, thread_id, "a good one", "Good Gail")
    console = open_console(browser, stack)
    sign_in(console)
    expect(item(console, "bulk spam 2")).to_be_visible(timeout=TIMEOUT)
    console.get_by_role("searchbox", name="Search by author").fill("bulk bob")
    expect(console.locator("article.item")).to_have_count(3)
    console.get_by_label("Select all").check()
    expect(console.get_by_text("3 selected")).to_be_visible()
    console.get_by_role("button", name="Reject selected").click()
    expect(console.get_by_text("Nothing waiting here.")).to_be_visible(timeout=TIMEOUT)
    console.get_by_role("searchbox", name="Search by author").fill("")
    expect(item(console, "a good one")).to_be_visible()

    def queue() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = httpx.get(
            f"{stack.base_url}/api/v1/moderation/queue",
            params={"site": SITE},
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        ).json()["items"]
        return [i for i in items if i["thread"] == thread_id]

    # The queue is a read model with no min_position: the three verdicts reach it when the
    # moderation projector has read them (it reads at its pace, COMMENTSTREAM_MODERATION_PACE_MS).
    wait_until(lambda: len(queue()) == 1, TIMEOUT / 1000, "the verdicts in the queue")
    assert [i["source"] for i in queue()] == ["a good one"]
    assert [i["id"] for i in queue()] == [kept["id"]]
    console.close()


def test_the_console_works_with_the_keyboard_alone(
    browser: Any, stack: Stack, thread_id: str
) -> None:
    first = hold(stack, thread_id, "keyboard first", "Kim")
    hold(stack, thread_id, "keyboard second", "Kim")
    console = open_console(browser, stack)
    console.keyboard.type(ADMIN_KEY)  # the key field has the focus
    console.keyboard.press("Enter")
    expect(item(console, "keyboard second")).to_be_visible(timeout=TIMEOUT)
    console.get_by_role("searchbox", name="Search by author").focus()
    console.keyboard.type("kim")
    console.keyboard.press("Tab")  # to "Sign out"
    console.keyboard.press("j")  # from anywhere but a field: to the list
    assert "keyboard first" in console.evaluate("document.activeElement.textContent")
    console.keyboard.press("j")
    assert "keyboard second" in console.evaluate("document.activeElement.textContent")
    console.keyboard.press("k")
    console.keyboard.press("h")  # the history, from the log
    expect(item(console, "keyboard first").get_by_role("list", name="History")).to_contain_text(
        "posted", timeout=TIMEOUT
    )
    console.keyboard.press("a")
    expect(console.get_by_text("Approved.")).to_be_attached(timeout=TIMEOUT)
    expect(item(console, "keyboard first")).to_have_count(0)
    console.keyboard.press("s")
    expect(item(console, "keyboard second")).to_have_count(0, timeout=TIMEOUT)
    view = httpx.get(f"{stack.base_url}/api/v1/threads/{thread_id}", params={"site": SITE}).json()
    assert [c["id"] for c in view["comments"]] == [first["id"]]
    console.close()


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_console_is_accessible(browser: Any, stack: Stack, thread_id: str, lang: str) -> None:
    hold(stack, thread_id, f"accessible {lang}", "Ada")
    console = open_console(browser, stack, lang=lang)
    assert axe_violations(console) == []  # the sign-in form
    label = "Admin key or single sign-on token" if lang == "en" else "Clé d\u2019administration"
    console.get_by_label(label, exact=False).fill(ADMIN_KEY)
    console.keyboard.press("Enter")
    expect(item(console, f"accessible {lang}")).to_be_visible(timeout=TIMEOUT)
    item(console, f"accessible {lang}").get_by_role(
        "button", name="History" if lang == "en" else "Historique"
    ).click()
    serious = axe_violations(console)
    assert serious == [], json.dumps(serious, indent=1)[:3000]
    console.close()


def test_a_moderator_approves_pins_and_closes_from_the_widget(
    open_reader: Any, stack: Stack, thread_id: str
) -> None:
    hold(stack, thread_id, "waiting in place", "Wes")
    moderator = open_reader(thread_id, site=SITE, **{"sso-token": sso_token("editor-1")}).page
    held = article(moderator, "waiting in place")
    expect(held.get_by_text("Your comment is awaiting moderation.")).to_be_visible(timeout=TIMEOUT)
    held.get_by_role("button", name="Approve").click()
    expect(held.get_by_role("button", name="Pin")).to_be_visible(timeout=TIMEOUT)
    held.get_by_role("button", name="Pin").click()
    expect(held.get_by_text("Pinned")).to_be_visible(timeout=TIMEOUT)

    reader = open_reader(thread_id, site=SITE).page
    expect(article(reader, "waiting in place").get_by_text("Pinned")).to_be_visible(timeout=TIMEOUT)
    moderator.get_by_role("button", name="Close comments").click()
    # Live: the reader's form gives way to "Comments are closed".
    expect(reader.get_by_text("Comments are closed.")).to_be_visible(timeout=TIMEOUT)
    expect(reader.get_by_role("form", name="Leave a Reply")).to_be_hidden()
    expect(article(reader, "waiting in place").get_by_role("button", name="Reply")).to_have_count(0)
    moderator.get_by_role("button", name="Reopen comments").click()
    expect(reader.get_by_role("form", name="Leave a Reply")).to_be_visible(timeout=TIMEOUT)


def test_a_reader_reports_a_comment_once(open_reader: Any, stack: Stack, thread_id: str) -> None:
    held = hold(stack, thread_id, "report me", "Rex")
    approved = httpx.post(
        f"{stack.base_url}/api/v1/threads/{thread_id}/comments/{held['id']}/approve",
        params={"site": SITE},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )
    assert approved.status_code == 200
    reader = open_reader(thread_id, site=SITE).page
    card = article(reader, "report me")
    card.get_by_role("button", name="Report").click()
    form = reader.get_by_role("form", name="Report")
    form.get_by_role("button", name="Send report").click()  # no reason: said at the field
    expect(form.get_by_role("alert")).to_have_text("Why should a moderator look at this comment?")
    form.get_by_label("Why should a moderator look at this comment?").fill("off topic")
    form.get_by_role("button", name="Send report").click()
    expect(reader.get_by_text("Reported. Thank you")).to_be_visible(timeout=TIMEOUT)
    deadline = time.monotonic() + 10
    reports = 0
    while time.monotonic() < deadline and not reports:
        queue = httpx.get(
            f"{stack.base_url}/api/v1/moderation/queue",
            params={"site": SITE, "status": "reported"},
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        ).json()
        reports = next((i["reports"] for i in queue["items"] if i["id"] == held["id"]), 0)
        time.sleep(0.1)
    assert reports == 1


def test_banning_from_the_console_clears_the_authors_queue_and_refuses_them(
    browser: Any, stack: Stack, thread_id: str
) -> None:
    first = hold(stack, thread_id, "troll one", "Troll")
    token = first["author_token"]
    second = httpx.post(
        f"{stack.base_url}/api/v1/threads/{thread_id}/comments",
        params={"site": SITE},
        json={"body": "troll two"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert second.status_code == 201
    console = open_console(browser, stack)
    sign_in(console)
    item(console, "troll one").get_by_role("button", name="Ban author").click()
    expect(console.get_by_text("Author banned.")).to_be_attached(timeout=TIMEOUT)
    expect(item(console, "troll one")).to_have_count(0)
    expect(item(console, "troll two")).to_have_count(0)
    deadline = time.monotonic() + 10
    while True:  # the ban reaches the moderation model the processor looks it up in
        again = httpx.post(
            f"{stack.base_url}/api/v1/threads/{thread_id}/comments",
            params={"site": SITE},
            json={"body": f"troll {time.monotonic()}"},
            headers={"Authorization": f"Bearer {token}"},
        )
        if again.status_code == 403 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert again.json()["error"]["code"] == "banned"
    console.close()


def test_a_moderator_bans_an_author_from_the_widget(
    open_reader: Any, stack: Stack, thread_id: str
) -> None:
    held = hold(stack, thread_id, "trolling in place", "Tess")
    approve = httpx.post(
        f"{stack.base_url}/api/v1/threads/{thread_id}/comments/{held['id']}/approve",
        params={"site": SITE},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )
    assert approve.status_code == 200
    moderator = open_reader(thread_id, site=SITE, **{"sso-token": sso_token("editor-1")}).page
    card = article(moderator, "trolling in place")
    card.get_by_role("button", name="Ban author").click()
    # hide_comments: the author's published comment is rejected, and leaves the page.
    expect(article(moderator, "trolling in place")).to_have_count(0, timeout=TIMEOUT)
    refused = httpx.post(
        f"{stack.base_url}/api/v1/threads/{thread_id}/comments",
        params={"site": SITE},
        json={"body": "still here?"},
        headers={"Authorization": f"Bearer {held['author_token']}"},
    )
    deadline = time.monotonic() + 10
    while refused.status_code != 403 and time.monotonic() < deadline:
        time.sleep(0.1)
        refused = httpx.post(
            f"{stack.base_url}/api/v1/threads/{thread_id}/comments",
            params={"site": SITE},
            json={"body": f"still here? {time.monotonic()}"},
            headers={"Authorization": f"Bearer {held['author_token']}"},
        )
    assert refused.json()["error"]["code"] == "banned"
