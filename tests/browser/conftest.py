"""A real browser for the widget: Debian's chromium driven by Playwright.

Without a browser these tests skip and say why; in CI (`CI` set) a missing browser fails.
The page under test is a host blog page on another origin (a small server on `localhost`, while
the gateway is on 127.0.0.1), embedding the widget with one script tag, as a real site would.
"""

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.processes import ROOT, Stack

CHROMIUM = os.environ.get("COMMENTSTREAM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(
    os.environ.get("COMMENTSTREAM_SCREENSHOTS", ROOT / "test-artifacts" / "screenshots")
)


def unavailable(reason: str) -> None:
    """Skip, or fail in CI, where a missing browser must not pass silently."""
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Module-scoped: Playwright's sync API holds an event loop on this thread while it runs,
    which the asyncio tests must not find there (they run first, see tests/conftest.py)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed (make install)")
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        unavailable(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def host_page_html(stack: Stack, thread: str, data: dict[str, str]) -> str:
    attributes = " ".join(f'data-{k}="{v}"' for k, v in data.items())
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A post</title>
<style>body {{ font-family: serif; }} button {{ color: red; }} h2 {{ display: none; }}</style>
</head><body><main><h1>A blog post</h1><p>Some text.</p>
<script src="{stack.base_url}/widget.js" data-thread="{thread}" data-title="A blog post"
        {attributes} async></script>
</main></body></html>"""


class HostSite:
    """Another origin that embeds the widget: any path is a page whose HTML was registered."""

    def __init__(self) -> None:
        pages: dict[str, str] = {}
        self.pages = pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?")[0], "").encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("localhost", 0), Handler)
        self.origin = f"http://localhost:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, path: str, html: str) -> str:
        self.pages[path] = html
        return self.origin + path


@pytest.fixture(scope="session")
def host_site() -> Iterator[HostSite]:
    site = HostSite()
    yield site
    site.server.shutdown()


class Reader:
    """One reader's browser context on a host page that embeds the widget."""

    def __init__(self, browser: Any, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1000, "height": 1200})
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = self.context.new_page()
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.goto(url)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_reader(browser: Any, stack: Stack, host_site: HostSite) -> Iterator[Callable[..., Reader]]:
    """Open the host page of `thread` in a new browser context (a new reader)."""
    readers: list[Reader] = []

    def open_one(thread: str, **data: str) -> Reader:
        url = host_site.publish(f"/post/{thread}", host_page_html(stack, thread, data))
        reader = Reader(browser, url)
        readers.append(reader)
        return reader

    yield open_one
    for reader in readers:
        assert not reader.errors, reader.errors
        reader.close()
