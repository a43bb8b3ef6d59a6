"""The widget in a real browser (Debian's chromium via Playwright), embedded in a host page on
another origin, against the whole running system."""

import gzip
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from playwright.sync_api import Locator, Page, expect

from services.gateway.demo.content import COMMENTS, TITLE
from tests.browser.conftest import AXE, SCREENSHOTS, HostSite, unavailable
from tests.processes import SSO_SITE_SECRET, Stack

WIDGET_BUDGET_BYTES = 15 * 1024
TIMEOUT = 15_000


def heading(page: Page) -> Locator:
    return page.locator("h2#cs-heading")


def article(page: Page, text: str) -> Locator:
    return page.locator("article", has_text=text)


def post_with_mouse(page: Page, body: str, name: str = "") -> None:
    form = page.get_by_role("form", name="Leave a Reply")
    form.get_by_label("Comment").fill(body)
    if name:
        form.get_by_label("Name").fill(name)
    form.get_by_role("button", name="Post Comment").click()
    expect(article(page, body)).to_be_visible(timeout=TIMEOUT)


def test_demo_shows_the_post_and_its_seed_comments(browser: Any, stack: Stack) -> None:
    page = browser.new_page()
    page.goto(stack.base_url + "/demo")
    expect(page.get_by_role("heading", name=TITLE, exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Mechanism of action")).to_be_visible()
    expect(heading(page)).to_have_text(f"4 thoughts on “{TITLE}”", timeout=TIMEOUT)
    for seed in COMMENTS:
        card = article(page, seed.body[:40])
        expect(card.locator("cite")).to_have_text(seed.name)
        label = "Liked by 1 person" if seed.likes == 1 else f"Liked by {seed.likes} people"
        expect(card.get_by_role("button", name=label)).to_be_visible()
    expect(page.locator("[data-commentstream-count]")).to_have_text("4 thoughts")
    page.close()


def test_post_reply_like_unlike_edit_delete_with_the_mouse(
    open_reader: Any, thread_id: str
) -> None:
    page = open_reader(thread_id).page
    expect(heading(page)).to_have_text("No thoughts on “A blog post”", timeout=TIMEOUT)
    post_with_mouse(page, "Hello from the browser", name="Bea")
    expect(heading(page)).to_have_text("One thought on “A blog post”")

    article(page, "Hello from the browser").get_by_role("button", name="Reply").click()
    reply_form = page.get_by_role("form", name="Reply to Bea")
    reply_form.get_by_label("Comment").fill("A reply, nested")
    reply_form.get_by_role("button", name="Post Comment").click()
    expect(page.locator(".replies article", has_text="A reply, nested")).to_be_visible(
        timeout=TIMEOUT
    )
    expect(heading(page)).to_have_text("2 thoughts on “A blog post”")

    parent = article(page, "Hello from the browser")
    parent.get_by_role("button", name="Like", exact=True).click()
    expect(parent.get_by_role("button", name="Liked by 1 person")).to_be_visible()
    expect(parent.get_by_role("button", name="Like", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    parent.get_by_role("button", name="Liked by 1 person").click()
    expect(
        parent.locator("..").get_by_role("list", name="People who like this comment")
    ).to_have_text("Bea")
    parent.get_by_role("button", name="Like", exact=True).click()
    expect(parent.get_by_role("button", name="Liked by 1 person")).to_be_hidden()

    parent.get_by_role("button", name="Edit").click()
    edit_form = page.get_by_role("form", name="Edit")
    expect(edit_form.get_by_label("Comment")).to_have_value("Hello from the browser")
    edit_form.get_by_label("Comment").fill("Hello, *edited*")
    edit_form.get_by_role("button", name="Save").click()
    edited = article(page, "Hello, edited")
    expect(edited.locator("em")).to_have_text("edited", timeout=TIMEOUT)
    expect(edited.get_by_text("(edited)")).to_be_visible()

    edited.get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Yes, delete").click()
    expect(page.get_by_text("This comment was deleted.")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator(".replies article", has_text="A reply, nested")).to_be_visible()
    expect(heading(page)).to_have_text("One thought on “A blog post”")


def focused(locator: Locator) -> bool:
    return bool(locator.evaluate("e => e.getRootNode().activeElement === e"))


def tab_to(page: Page, locator: Locator, limit: int = 120) -> None:
    """Press Tab until `locator` has the focus, as a keyboard-only reader would."""
    locator.wait_for(timeout=TIMEOUT)
    for _ in range(limit):
        if focused(locator):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {locator}")


def test_everything_works_with_the_keyboard_alone(open_reader: Any, thread_id: str) -> None:
    page = open_reader(thread_id).page
    form = page.get_by_role("form", name="Leave a Reply")
    tab_to(page, form.get_by_label("Comment"))
    page.keyboard.type("Typed, never clicked")
    tab_to(page, form.get_by_label("Name"))
    page.keyboard.type("Kim")
    tab_to(page, form.get_by_role("button", name="Post Comment"))
    page.keyboard.press("Enter")
    card = article(page, "Typed, never clicked")
    expect(card).to_be_visible(timeout=TIMEOUT)

    tab_to(page, card.get_by_role("button", name="Reply"))
    page.keyboard.press("Enter")
    reply_form = page.get_by_role("form", name="Reply to Kim")
    expect(reply_form.get_by_label("Comment")).to_be_focused()
    page.keyboard.type("Keyboard reply")
    tab_to(page, reply_form.get_by_role("button", name="Post Comment"))
    page.keyboard.press("Enter")
    expect(page.locator(".replies article", has_text="Keyboard reply")).to_be_visible(
        timeout=TIMEOUT
    )

    like = card.get_by_role("button", name="Like", exact=True)
    tab_to(page, like)
    page.keyboard.press("Space")
    expect(card.get_by_role("button", name="Liked by 1 person")).to_be_visible(timeout=TIMEOUT)
    expect(like).to_be_focused()
    page.keyboard.press("Space")
    expect(card.get_by_role("button", name="Liked by 1 person")).to_be_hidden(timeout=TIMEOUT)

    tab_to(page, card.get_by_role("button", name="Edit"))
    page.keyboard.press("Enter")
    editor = page.get_by_role("form", name="Edit").get_by_label("Comment")
    expect(editor).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("Typed again")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    card = article(page, "Typed again")
    expect(card).to_be_visible(timeout=TIMEOUT)

    tab_to(page, card.get_by_role("button", name="Delete"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Yes, delete")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("This comment was deleted.")).to_be_visible(timeout=TIMEOUT)


def test_a_second_reader_sees_new_comments_and_likes_live(open_reader: Any, thread_id: str) -> None:
    writer = open_reader(thread_id).page
    watcher = open_reader(thread_id).page
    expect(heading(watcher)).to_have_text("No thoughts on “A blog post”", timeout=TIMEOUT)
    post_with_mouse(writer, "Appears without a reload", name="Live Larry")
    card = article(watcher, "Appears without a reload")
    expect(card).to_be_visible(timeout=TIMEOUT)
    expect(heading(watcher)).to_have_text("One thought on “A blog post”")
    expect(watcher.locator("[aria-live]")).to_have_text("New comment by Live Larry")
    article(writer, "Appears without a reload").get_by_role(
        "button", name="Like", exact=True
    ).click()
    expect(card.get_by_role("button", name="Liked by 1 person")).to_be_visible(timeout=TIMEOUT)


def test_a_live_update_keeps_an_open_form_and_what_was_typed(
    open_reader: Any, thread_id: str
) -> None:
    """An edit by the author redraws the comment for every reader: the reply form another
    reader has open under it, what they typed and their focus stay."""
    author = open_reader(thread_id).page
    reader = open_reader(thread_id).page
    post_with_mouse(author, "Before the fix", name="Eda")
    card = article(reader, "Before the fix")
    card.get_by_role("button", name="Reply").click(timeout=TIMEOUT)
    field = reader.get_by_role("form", name="Reply to Eda").get_by_label("Comment")
    field.fill("Half typed")

    article(author, "Before the fix").get_by_role("button", name="Edit").click()
    editor = author.get_by_role("form", name="Edit")
    editor.get_by_label("Comment").fill("After the fix")
    editor.get_by_role("button", name="Save").click()
    expect(article(reader, "After the fix")).to_be_visible(timeout=TIMEOUT)
    expect(field).to_have_value("Half typed")
    expect(field).to_be_focused()
    reader.keyboard.type(", and finished")
    reader.get_by_role("form", name="Reply to Eda").get_by_role(
        "button", name="Post Comment"
    ).click()
    expect(reader.locator(".replies article", has_text="Half typed, and finished")).to_be_visible(
        timeout=TIMEOUT
    )


def test_script_payloads_are_dropped_or_shown_as_text_and_never_run(
    open_reader: Any, thread_id: str
) -> None:
    """Raw HTML in a comment is dropped (cmark's safe mode; the text between tags stays), in
    the name and website it is text."""
    attacker = open_reader(thread_id)
    page = attacker.page
    form = page.get_by_role("form", name="Leave a Reply")
    script = "<script>window.__pwned = 1</script>"
    body = f'Look: {script}<img src=x onerror="window.__pwned = 2; alert(1)">'
    form.get_by_label("Comment").fill(body)
    form.get_by_label("Name").fill('<img src=x onerror="window.__pwned = 3; alert(2)">')
    form.get_by_label("Website").fill('https://evil.example/"><svg/onload=alert(3)>')
    form.get_by_role("button", name="Post Comment").click()
    victim = open_reader(thread_id)
    for reader in (attacker, victim):
        card = reader.page.locator("article", has_text="window.__pwned = 1")
        expect(card).to_be_visible(timeout=TIMEOUT)
        expect(card.locator("cite")).to_have_text(
            '<img src=x onerror="window.__pwned = 3; alert(2)">'
        )
        assert card.locator("img, script").count() == 0
        assert reader.page.evaluate("window.__pwned") is None
        assert reader.dialogs == []
        link = card.locator("cite a")
        assert link.get_attribute("href") == 'https://evil.example/"><svg/onload=alert(3)>'
        assert link.get_attribute("rel") == "nofollow ugc noopener"


def test_server_field_errors_show_next_to_the_field_and_roll_back(
    open_reader: Any, thread_id: str
) -> None:
    page = open_reader(thread_id).page
    form = page.get_by_role("form", name="Leave a Reply")
    form.get_by_label("Comment").fill("This should not stay")
    form.get_by_label("Website").fill("ftp://not-a-web-site.example")
    form.get_by_role("button", name="Post Comment").click()
    website = form.get_by_label("Website")
    expect(website).to_have_attribute("aria-invalid", "true", timeout=TIMEOUT)
    expect(form.get_by_text("must be an http:// or https:// URL")).to_be_visible()
    expect(article(page, "This should not stay")).to_have_count(0)
    expect(form.get_by_label("Comment")).to_have_value("This should not stay")


def test_a_write_queued_while_the_processor_is_down_shows_pending_then_lands(
    open_reader: Any, stack: Stack, thread_id: str
) -> None:
    page = open_reader(thread_id).page
    expect(heading(page)).to_have_text("No thoughts on “A blog post”", timeout=TIMEOUT)
    processor = stack.services["processor"]
    processor.stop()
    try:
        form = page.get_by_role("form", name="Leave a Reply")
        form.get_by_label("Comment").fill("Patience pays")
        form.get_by_role("button", name="Post Comment").click()
        card = article(page, "Patience pays")
        expect(card.get_by_role("status")).to_have_text(
            "Pending: the server will publish it shortly.", timeout=TIMEOUT
        )
    finally:
        processor.start()
    expect(card.get_by_role("button", name="Reply")).to_be_visible(timeout=30_000)
    expect(heading(page)).to_have_text("One thought on “A blog post”")


def test_a_like_queued_while_the_processor_is_down_stays_and_lands(
    open_reader: Any, stack: Stack, thread_id: str
) -> None:
    page = open_reader(thread_id).page
    post_with_mouse(page, "Like me while it sleeps")
    card = article(page, "Like me while it sleeps")
    expect(card.get_by_role("button", name="Reply")).to_be_visible(timeout=TIMEOUT)
    processor = stack.services["processor"]
    processor.stop()
    try:
        with page.expect_response(lambda r: r.request.method == "PUT", timeout=TIMEOUT) as answer:
            card.get_by_role("button", name="Like", exact=True).click()
        assert answer.value.status == 202  # queued: the write timeout passed
        expect(card.get_by_role("button", name="Liked by 1 person")).to_be_visible()
        expect(page.get_by_text("It could not be saved")).to_have_count(0)
    finally:
        processor.start()
    page.reload()
    card = article(page, "Like me while it sleeps")
    expect(card.get_by_role("button", name="Liked by 1 person")).to_be_visible(timeout=30_000)


def test_french_dark_and_within_budget(open_reader: Any, stack: Stack, thread_id: str) -> None:
    reader = open_reader(thread_id, lang="fr", theme="dark")
    page = reader.page
    expect(heading(page)).to_have_text("Aucune réflexion sur « A blog post »", timeout=TIMEOUT)
    form = page.get_by_role("form", name="Laisser un commentaire")
    expect(form.get_by_label("Commentaire")).to_be_visible()
    expect(form.get_by_text("Votre adresse e-mail ne sera jamais publiée.")).to_be_visible()
    expect(form.get_by_role("button", name="Publier le commentaire")).to_be_visible()
    colour = page.locator("section").first.evaluate("e => getComputedStyle(e).color")
    assert colour == "rgb(232, 232, 232)"
    form.get_by_label("Commentaire").fill("Bonjour")
    form.get_by_label("Nom").fill("Amélie")
    form.get_by_role("button", name="Publier le commentaire").click()
    expect(heading(page)).to_have_text("Une réflexion sur « A blog post »")
    expect(article(page, "Bonjour").get_by_role("button", name="Répondre")).to_be_visible()
    host_origin = reader.requests[0].split("/post/")[0]
    allowed = (host_origin, stack.base_url)
    assert all(url.startswith(allowed) for url in reader.requests), reader.requests

    widget = httpx.get(stack.base_url + "/widget.js").content
    assert len(gzip.compress(widget, 9)) < WIDGET_BUDGET_BYTES


def axe_violations(page: Page) -> list[dict[str, Any]]:
    if not AXE.exists():
        unavailable(f"axe-core is not installed at {AXE} (npm install)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => JSON.stringify(await axe.run(document))")
    violations = json.loads(result)["violations"]
    return [v for v in violations if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_demo_is_accessible_and_screenshotted(browser: Any, stack: Stack, theme: str) -> None:
    # bypass_csp lets the test inject axe-core; the page itself runs under its strict CSP
    page = browser.new_page(
        viewport={"width": 1000, "height": 1400}, color_scheme=theme, bypass_csp=True
    )
    page.goto(f"{stack.base_url}/demo?theme={theme}")
    expect(heading(page)).to_have_text(f"4 thoughts on “{TITLE}”", timeout=TIMEOUT)
    page.get_by_role("button", name="Reply").first.click()
    serious = axe_violations(page)
    assert serious == [], json.dumps(serious, indent=1)[:3000]
    page.get_by_role("button", name="Cancel").click()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"demo-{theme}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    print(f"screenshot: {path}")
    page.close()


def test_count_script_fills_listing_links_in_one_request(
    browser: Any, stack: Stack, host_site: HostSite, api: httpx.Client, thread_id: str
) -> None:
    written = api.post(f"/api/v1/threads/{thread_id}/comments", json={"body": "one"}).json()
    api.get(f"/api/v1/threads/{thread_id}", params={"min_position": written["position"]})
    html = f"""<!doctype html><html lang="en"><body>
<a href="/a" data-commentstream-count="{thread_id}">comments</a>
<a href="/b" data-commentstream-count="{thread_id}-empty">comments</a>
<script src="{stack.base_url}/count.js" async></script></body></html>"""
    context = browser.new_context()
    page = context.new_page()
    calls: list[str] = []
    page.on("request", lambda request: calls.append(request.url))
    page.goto(host_site.publish(f"/listing/{thread_id}", html))
    expect(page.locator("a").first).to_have_text("1 thought")
    expect(page.locator("a").nth(1)).to_have_text("No thoughts yet")
    assert len([url for url in calls if "/api/v1/counts" in url]) == 1
    context.close()


def test_deep_replies_flatten_and_big_threads_page_and_sort(
    open_reader: Any, api: httpx.Client, thread_id: str
) -> None:
    url = f"/api/v1/threads/{thread_id}/comments"
    parent = None
    for level in range(7):
        body = {"body": f"written at depth {level}", "author": {"name": f"Level {level}"}}
        parent = api.post(url, json=body | ({"parent_id": parent} if parent else {})).json()["id"]
    last = None
    for n in range(51):
        last = api.post(url, json={"body": f"top-level {n}"}).json()["position"]
    api.get(f"/api/v1/threads/{thread_id}", params={"min_position": last})

    page = open_reader(thread_id).page
    expect(heading(page)).to_have_text("58 thoughts on “A blog post”", timeout=TIMEOUT)
    # Five levels nest (0-4); levels 5 and 6 stand flat beside level 4, marked.
    nested = page.locator(".replies " * 4 + "article")
    expect(nested).to_have_count(3)
    expect(page.locator(".replies " * 5 + "article")).to_have_count(0)
    expect(article(page, "written at depth 5").locator(".mark")).to_have_text("in reply to Level 4")
    expect(article(page, "written at depth 6").locator(".mark")).to_have_text("in reply to Level 5")
    expect(article(page, "written at depth 4").locator(".mark")).to_have_count(0)

    top_level = page.locator("ol.comments > li")
    expect(top_level).to_have_count(50)
    page.get_by_role("button", name="Load more comments").click()
    expect(top_level).to_have_count(52)
    expect(page.get_by_role("button", name="Load more comments")).to_be_hidden()

    page.get_by_label("Sort by").select_option("newest")
    expect(top_level.first).to_contain_text("top-level 50", timeout=TIMEOUT)


def test_a_host_sites_signed_in_user_comments_under_their_name(
    open_reader: Any, thread_id: str
) -> None:
    token = jwt.encode(
        {"sub": "reader-7", "name": "Signed In Sue", "aud": "sso", "exp": int(time.time()) + 600},
        SSO_SITE_SECRET,
        algorithm="HS256",
    )
    page = open_reader(thread_id, site="sso", **{"sso-token": token}).page
    form = page.get_by_role("form", name="Leave a Reply")
    form.get_by_label("Comment").fill("Hello as a member")
    form.get_by_role("button", name="Post Comment").click()
    card = article(page, "Hello as a member")
    expect(card.locator("cite")).to_have_text("Signed In Sue", timeout=TIMEOUT)
    expect(card.get_by_role("button", name="Edit")).to_be_visible()
    # No anonymous identity was made beside the host site's user.
    assert page.evaluate("localStorage.getItem('commentstream:sso:token')") is None
