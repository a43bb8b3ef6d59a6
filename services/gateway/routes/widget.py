"""The embeddable widget, the listing-page counter, the demo page and the moderators' console."""

import hashlib
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import HTMLResponse

from services.gateway.demo.page import demo_page
from services.gateway.routes.dependencies import SiteParam
from services.gateway.schemas import ERROR_RESPONSES

router = APIRouter(tags=["widget"], responses=ERROR_RESPONSES)
SCRIPT_CACHE = "public, max-age=300"


@cache
def static_file(name: str) -> tuple[bytes, str]:
    """A script's bytes and its ETag (a hash of the content)."""
    content = (resources.files("services.gateway") / "static" / name).read_bytes()
    return content, '"' + hashlib.sha256(content).hexdigest()[:20] + '"'


def _script(
    name: str, if_none_match: str | None, media_type: str = "text/javascript; charset=utf-8"
) -> Response:
    content, etag = static_file(name)
    headers = {"Cache-Control": SCRIPT_CACHE, "ETag": etag, "Access-Control-Allow-Origin": "*"}
    if if_none_match == etag:
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=media_type, headers=headers)


IfNoneMatch = Annotated[str | None, Header()]


SCRIPT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/javascript": {}}},
    304: {"description": "not modified"},
}


@router.get("/widget.js", response_class=Response, responses=SCRIPT)
async def widget_js(if_none_match: IfNoneMatch = None) -> Response:
    """The comment section: `<script src=".../widget.js" data-thread="..." async></script>`."""
    return _script("widget.js", if_none_match)


@router.get("/count.js", response_class=Response, responses=SCRIPT)
async def count_js(if_none_match: IfNoneMatch = None) -> Response:
    """Fills `[data-commentstream-count="thread"]` elements with "N thoughts"."""
    return _script("count.js", if_none_match)


@router.get("/demo", response_class=HTMLResponse)
async def demo(
    site: SiteParam = "default",
    lang: Annotated[Literal["en", "fr"] | None, Query()] = None,
    theme: Annotated[Literal["light", "dark"] | None, Query()] = None,
) -> HTMLResponse:
    """The seed blog post with its live comment section."""
    return HTMLResponse(demo_page(site, lang, theme))


@router.get("/moderate", response_class=HTMLResponse)
async def moderators_console() -> HTMLResponse:
    """The moderators' console: sign in with the admin key or an SSO token with the role."""
    return HTMLResponse(static_file("moderate.html")[0])


@router.get("/moderate.js", response_class=Response, responses=SCRIPT)
async def console_js(if_none_match: IfNoneMatch = None) -> Response:
    return _script("moderate.js", if_none_match)


@router.get(
    "/moderate.css", response_class=Response, responses={200: {"content": {"text/css": {}}}}
)
async def console_css(if_none_match: IfNoneMatch = None) -> Response:
    return _script("moderate.css", if_none_match, "text/css; charset=utf-8")
