"""Markdown to safe HTML: cmark-gfm renders CommonMark with raw HTML omitted, then nh3 cleans it
by an allow-list."""

import ctypes
import hashlib
import re

import nh3
from cmarkgfm import _cmark
from cmarkgfm.cmark import Options

# Plain CommonMark (none of the GFM extensions: no tables, autolinked bare URLs, strikethrough),
# in cmark's safe mode (no CMARK_OPT_UNSAFE): raw HTML becomes `<!-- raw HTML omitted -->`, a
# comment nh3 drops, and a javascript:, vbscript:, file: or data: link gets href="".
_CMARK_OPTIONS = Options.CMARK_OPT_DEFAULT

# cmarkgfm.markdown_to_html copies the HTML cmark returns and never frees it, which leaks the
# size of every rendered comment. cmark allocates it with the C library's calloc (the one its
# extension module links to), so the same cmark_markdown_to_html is called here through that
# module and the buffer handed back to free.
_free = ctypes.CDLL(None).free
_free.argtypes = [ctypes.c_void_p]
_free.restype = None

# An image is shown as its alt text (img is not allowed; nh3 alone would drop it, alt and all).
# cmark writes every image as <img src="…" alt="…" /> or with ` title="…"`, each value escaped,
# and with raw HTML omitted no other <img reaches its output, so this matches every one.
_IMAGE = re.compile(r'<img src="[^"]*" alt="([^"]*)"(?: title="[^"]*")? />')

# cmark nests lists at most 100 deep but block quotes without end, and nh3's HTML parser takes
# time quadratic in the depth (10,000 `>` cost 0.3 s). Quotes deeper than this are flattened
# into the one at this depth, their text kept. cmark writes no other <blockquote> (see above).
MAX_QUOTE_DEPTH = 100
_QUOTE_TAG = re.compile(r"</?blockquote>")

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


def _utf8(text: str) -> bytes:
    """The text in UTF-8; a lone surrogate (a str can hold one, UTF-8 cannot) becomes U+FFFD."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode()


def _markdown_to_html(body: str) -> str:
    source = _utf8(body)
    rendered = _cmark.lib.cmark_markdown_to_html(source, len(source), _CMARK_OPTIONS)
    try:
        html: str = _cmark.ffi.string(rendered).decode()
    finally:
        _free(int(_cmark.ffi.cast("uintptr_t", rendered)))
    if "<img " in html:
        html = _IMAGE.sub(r"\1", html)
    if html.count("<blockquote>") > MAX_QUOTE_DEPTH:
        html = _flatten_deep_quotes(html)
    return html


def _flatten_deep_quotes(html: str) -> str:
    depth = 0

    def kept(tag: re.Match[str]) -> str:
        nonlocal depth
        if tag[0] == "<blockquote>":
            depth += 1
            return tag[0] if depth <= MAX_QUOTE_DEPTH else ""
        depth -= 1
        return tag[0] if depth < MAX_QUOTE_DEPTH else ""

    return _QUOTE_TAG.sub(kept, html)


def render(body: str, markup: str = "markdown") -> str:
    """Sanitised HTML for a comment body (markdown, or HTML from an import); every link gets
    rel="nofollow ugc noopener", and keeps its href only with an http, https or mailto URL."""
    html = _markdown_to_html(body) if markup == "markdown" else body
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        # Relative URLs too: cmark's href="" for a javascript: link is one, and a relative link
        # in a widget on someone else's page would point into that page.
        url_relative="deny",
        link_rel=LINK_REL,
    )


def avatar_seed(author_id: str) -> str:
    """A stable, non-reversible seed the widget turns into an identicon."""
    return hashlib.sha256(f"avatar:{author_id}".encode()).hexdigest()[:16]
