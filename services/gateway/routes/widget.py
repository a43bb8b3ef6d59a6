"""The embeddable widget, the listing-page counter, and the demo page."""

from functools import cache
from importlib import resources
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse

from services.gateway.demo.page import demo_page
from services.gateway.routes.dependencies import SiteParam

router = APIRouter(tags=["widget"])
SCRIPT_CACHE = "public, max-age=300"


@cache
def static_file(name: str) -> bytes:
    return (resources.files("services.gateway") / "static" / name).read_bytes()


def _script(name: str) -> Response:
    return Response(
        static_file(name),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": SCRIPT_CACHE, "Access-Control-Allow-Origin": "*"},
    )


@router.get("/widget.js", response_class=Response)
async def widget_js() -> Response:
    """The comment section: `<script src=".../widget.js" data-thread="..." async></script>`."""
    return _script("widget.js")


@router.get("/count.js", response_class=Response)
async def count_js() -> Response:
    """Fills `[data-commentstream-count="thread"]` elements with "N thoughts"."""
    return _script("count.js")


@router.get("/demo", response_class=HTMLResponse)
async def demo(
    site: SiteParam = "default",
    lang: Annotated[Literal["en", "fr"] | None, Query()] = None,
    theme: Annotated[Literal["light", "dark"] | None, Query()] = None,
) -> HTMLResponse:
    """The seed blog post with its live comment section."""
    return HTMLResponse(demo_page(site, lang, theme))
