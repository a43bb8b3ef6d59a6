"""Markdown to safe HTML: raw HTML disabled, then cleaned by an allow-list."""

import hashlib

import nh3
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_markdown.disable("image")

ALLOWED_TAGS = {
    "p",
    "br",
    "em",
    "strong",
    "a",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
LINK_REL = "nofollow ugc noopener"


def render(body: str, markup: str = "markdown") -> str:
    """Sanitised HTML for a comment body (markdown, or HTML from an import); every link gets
    rel="nofollow ugc noopener"."""
    html = _markdown.render(body) if markup == "markdown" else body
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel=LINK_REL,
    )


def avatar_seed(author_id: str) -> str:
    """A stable, non-reversible seed the widget turns into an identicon."""
    return hashlib.sha256(f"avatar:{author_id}".encode()).hexdigest()[:16]
