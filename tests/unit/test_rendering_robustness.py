"""The comment renderer (cmark-gfm, then nh3) against 100,000 generated inputs: a hypothesis
property test over markdown-like text, and a seeded generator of nasty markdown and HTML. For
each, render() returns a str and its HTML passes the allow-list: only ALLOWED_TAGS, only href and
title on <a> (and the rel nh3 sets), every href http, https or mailto, nothing that runs script.
Then the exact HTML of ordinary comments."""

import random
from collections.abc import Iterator

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from projections.thread_view.rendering import (
    LINK_REL,
    MAX_QUOTE_DEPTH,
    render,
)
from tests.html_allow_list import markup_problems

TOTAL_INPUTS = 100_000
PROPERTY_EXAMPLES = 2_000
GENERATED_INPUTS = TOTAL_INPUTS - PROPERTY_EXAMPLES
SEED = 20_260_101


def problems_in(body: str) -> list[str]:
    """What is wrong with the HTML render() makes of this body (nothing, we hope)."""
    out = render(body)
    if not isinstance(out, str):
        return [f"render returned {type(out).__name__}"]
    return markup_problems(out)


# Pieces of markdown and HTML, innocent and not, that both generators put together.
SCHEMES = [
    "javascript:",
    "JaVaScRiPt:",
    "jav&#x09;ascript:",
    "jav&#9;ascript:",
    "java\tscript:",
    "java\nscript:",
    "java\x00script:",
    "&#106;avascript:",
    "&#x6A;&#x61;vascript:",
    "javascript&colon;",
    "javascript&#58;",
    "javascript&#x3a;",
    " javascript:",
    "\x01javascript:",
    "java%0ascript:",
    "java\\script:",
    "vbscript:",
    "VBScript:",
    "data:text/html,<script>alert(1)</script>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "data:image/svg+xml,<svg onload=alert(1)>",
    "data:image/png;base64,iVBORw0KGgo=",
    "file:///etc/passwd",
    "//evil.example/",
    "/relative",
    "#fragment",
    "",
    "http://",
    "https://e.example/",
    "HTTPS://E.EXAMPLE/",
    "mailto:someone@e.example",
    "ftp://e.example/",
    "\\\\evil.example\\share",
]
HTML = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<img src="javascript:alert(1)">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<a href="javascript:alert(1)">x</a>',
    "<a href=javascript:alert(1)>x</a>",
    '<a href="https://ok.example" onclick="alert(1)">x</a>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<p style="color:red">x</p>',
    "<iframe src=javascript:alert(1)></iframe>",
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<base href=javascript:alert(1)//>",
    "<form action=javascript:alert(1)><button>x</button></form>",
    "<style>@import 'javascript:alert(1)';</style>",
    "<object data=javascript:alert(1)>",
    "<!-- <script>alert(1)</script> -->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<?xml version='1.0'?>",
    "<!DOCTYPE html>",
    "</p><script>alert(1)</script><p>",
    "<b>bold</b>",
    "<em>",
    "</em>",
    "<a ",
    "<",
    ">",
    "&lt;script&gt;",
    "&amp;",
    "&#0;",
    "&#x110000;",
    "&nbsp;",
]
MARKDOWN = [
    "*",
    "**",
    "***",
    "_",
    "__",
    "`",
    "``",
    "```",
    "~~~",
    "[",
    "]",
    "](",
    ")",
    "(",
    "![",
    "!",
    "<",
    ">",
    "> ",
    "&",
    "#",
    "# ",
    "###### ",
    "\n",
    "\n\n",
    "\r\n",
    "-",
    "- ",
    "+ ",
    "* ",
    "1. ",
    "1) ",
    "---",
    "***\n",
    "===",
    "    ",
    "\t",
    "\\",
    '"',
    "'",
    " ",
    "  \n",
    "|",
    "[^1]",
    "[x]: ",
    "[x]",
    "[x][x]",
    "<https://e.example>",
    "<mailto:a@e.example>",
    "www.e.example",
    "a@e.example",
    " onerror=",
    " onmouseover=alert(1) ",
    "style=",
    '" onerror="alert(1)',
    "x",
    "word",
    "é",
    "日本語",
    "🎉",
    "\u202e",
    "\u200b",
    "\ufeff",
    "\x00",
    "\x07",
    "\x1b[31m",
    "\x7f",
    "\u0085",
    "\u2028",
    "\ud800",
    "\udfff",
]
FRAGMENTS = MARKDOWN + SCHEMES + HTML
WRAPPERS = [
    ("*", "*"),
    ("**", "**"),
    ("_", "_"),
    ("__", "__"),
    ("`", "`"),
    ("[", "](https://e.example)"),
    ("[", "](javascript:alert(1))"),
    ("![", "](x.png)"),
    ("> ", ""),
    ("- ", ""),
    ("1. ", ""),
    ("# ", ""),
    ("```\n", "\n```"),
    ("<a href='", "'>"),
    ("<b>", "</b>"),
    ("(", ")"),
    ('"', '"'),
]


def links(scheme: str, rng: random.Random | None = None) -> list[str]:
    """Every markdown and HTML way to make a link (or image) of a URL."""
    url = f"{scheme}alert(1)"
    title = '"t" onmouseover="alert(1)"' if rng is None else rng.choice(['"t"', "'t'", "(t)"])
    return [
        f"[x]({url})",
        f"[x](<{url}>)",
        f"[x]( {url} {title})",
        f"[x]({url} 'a\" onmouseover=\"alert(1)')",
        f"[x][r]\n\n[r]: {url}",
        f"[r]\n\n[r]: <{url}> {title}",
        f"<{url}>",
        f"![x]({url})",
        f'![x]({url} "t" onerror=alert(1))',
        f"[![x]({url})]({url})",
        f'<a href="{url}">x</a>',
        f"<img src={url} onerror=alert(1)>",
    ]


fragment = st.sampled_from(FRAGMENTS)
piece = st.one_of(
    fragment,
    st.text(max_size=6),
    st.builds(lambda f, n: f * n, fragment, st.integers(min_value=2, max_value=60)),
    st.builds(lambda s, i: links(s)[i], st.sampled_from(SCHEMES), st.integers(0, 11)),
)
flat = st.lists(piece, max_size=25).map("".join)
markdownish = st.recursive(
    flat,
    lambda inner: st.one_of(
        st.builds(lambda w, s: w[0] + s + w[1], st.sampled_from(WRAPPERS), inner),
        st.lists(inner, max_size=4).map("".join),
    ),
    max_leaves=12,
)


@hypothesis_settings(
    max_examples=PROPERTY_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(body=markdownish)
def test_generated_markdown_renders_to_allowed_html(body: str) -> None:
    assert problems_in(body) == [], (body, render(body))


# Few but large: nesting, pathological emphasis and brackets, huge references, cmark's limits.
BIG = [
    ">" * 10_000 + "x",
    "> " * 5_000 + "x",
    "[" * 10_000,
    "]" * 10_000,
    "[" * 5_000 + "x" + "](https://e.example)" * 5_000,
    "*" * 10_000,
    "_" * 10_000 + "x",
    "*" * 5_000 + "a" + "*" * 5_000,
    "*a **a *a " * 1_000,
    "**_" * 3_000,
    "_a __a _a " * 1_000,
    "`" * 10_000,
    "``" * 2_500 + "x" + "`" * 3_000,
    "```\n" + "code\n" * 2_000,
    "~~~\n" * 2_000,
    "- " * 5_000 + "x",
    "1. " * 3_000 + "x",
    "> - 1. " * 1_400 + "x",
    "    - " * 1_500 + "x",
    "(" * 10_000,
    "[x](" + "(" * 10_000,
    "[x](" + "<" * 5_000,
    "[x](https://e.example/" + "a" * 9_000 + ")",
    "![" * 3_000 + "x" + "](y)" * 3_000,
    "<" * 10_000,
    "<a " * 3_000,
    "<b>" * 3_000 + "x",
    "<div>" * 2_000 + "\n*x*",
    "<!--" * 2_500,
    "&#" * 5_000,
    "&" * 10_000,
    "\\" * 10_000,
    "#" * 10_000,
    "\n" * 10_000 + "x",
    "\t" * 5_000 + "x",
    "\x00" * 5_000,
    "\ud800" * 2_000,
    "[a]" * 3_000 + "\n\n[a]: https://e.example",
    "[" + "a" * 999 + "]\n\n[" + "a" * 999 + "]: https://e.example",
    "".join(f"[r{i}]: https://e.example/{i}\n" for i in range(1_000)) + "[r999]",
    "".join(f"[x{i}]: javascript:alert({i})\n" for i in range(1_000)) + "[x1] [x999]",
    "| a |\n|---|\n" + "| x |\n" * 2_000,
    "javascript:alert(1) " * 500,
    "<script>alert(1)</script>" * 400,
    "<img src=x onerror=alert(1)>" * 350,
    "\n".join(links("jav&#x09;ascript:")) * 100,
]


def generated(seed: int, count: int) -> Iterator[str]:
    """count nasty inputs, the same ones for the same seed: BIG first, then small random ones."""
    rng = random.Random(seed)
    yield from BIG[:count]
    shapes = [
        lambda: "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 30))),
        lambda: rng.choice(links(rng.choice(SCHEMES), rng)),
        lambda: rng.choice(HTML) + rng.choice(MARKDOWN) + rng.choice(HTML),
        lambda: nested(rng.randint(1, 60)),
        lambda: mutated(rng.choice(links(rng.choice(SCHEMES), rng) + HTML)),
        lambda: rng.choice(FRAGMENTS) * rng.randint(2, 300),
        lambda: "".join(chr(rng.randint(0, 0x2FF)) for _ in range(rng.randint(1, 40))),
    ]

    def nested(depth: int) -> str:
        inside = rng.choice(links(rng.choice(SCHEMES), rng) + HTML + MARKDOWN)
        for _ in range(depth):
            before, after = rng.choice(WRAPPERS)
            inside = before + inside + after
        return inside

    def mutated(text: str) -> str:
        chars = list(text)
        for _ in range(rng.randint(1, 5)):
            at = rng.randint(0, len(chars))
            chars[at:at] = rng.choice(["\x00", "\t", "\n", " ", "&#x09;", "\\", "\ud800", "`"])
        return "".join(chars)

    for _ in range(count - len(BIG)):
        yield rng.choice(shapes)()


def test_nasty_generated_inputs_render_to_allowed_html() -> None:
    failures = []
    seen = 0
    for body in generated(SEED, GENERATED_INPUTS):
        seen += 1
        if problems := problems_in(body):
            failures.append((body[:200], problems[:3]))
    assert seen == GENERATED_INPUTS
    assert failures == [], f"{len(failures)} of {seen} failed, e.g. {failures[:5]}"


def test_the_inputs_add_up_to_the_total() -> None:
    assert PROPERTY_EXAMPLES + GENERATED_INPUTS == TOTAL_INPUTS
    assert len(list(generated(SEED, 1_000))) == 1_000
    assert list(generated(SEED, 1_000)) == list(generated(SEED, 1_000))  # seeded: repeatable


def test_the_rendered_buffers_are_freed() -> None:
    """cmarkgfm's own markdown_to_html would leak each rendered comment's HTML (here 50 MB)."""

    def resident_kb() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * 4

    body = "word " * 20_000  # 100 KB of HTML each time
    render(body)
    before = resident_kb()
    for _ in range(500):
        render(body)
    assert resident_kb() - before < 16_000


# The exact HTML of ordinary comments.
REL = f'rel="{LINK_REL}"'


def test_a_paragraph() -> None:
    assert render("Hello, world.\nSecond line.") == "<p>Hello, world.\nSecond line.</p>\n"


def test_emphasis_and_code() -> None:
    assert render("*a* **b** _c_ __d__ `e < f`") == (
        "<p><em>a</em> <strong>b</strong> <em>c</em> <strong>d</strong> <code>e &lt; f</code></p>\n"
    )


def test_a_link_gets_rel_and_keeps_its_title() -> None:
    assert render('[docs](https://e.example/a?b=1&c=2 "The docs")') == (
        f'<p><a href="https://e.example/a?b=1&amp;c=2" title="The docs" {REL}>docs</a></p>\n'
    )
    assert render("<https://e.example> <mailto:a@e.example>") == (
        f'<p><a href="https://e.example" {REL}>https://e.example</a> '
        f'<a href="mailto:a@e.example" {REL}>mailto:a@e.example</a></p>\n'
    )


def test_bare_urls_tables_and_strikethrough_stay_text() -> None:
    """Plain CommonMark: none of the GFM extensions."""
    assert render("https://e.example ~~x~~") == "<p>https://e.example ~~x~~</p>\n"
    assert render("| a |\n|---|\n| 1 |") == "<p>| a |\n|---|\n| 1 |</p>\n"


def test_raw_html_is_dropped() -> None:
    assert render("a <b>bold</b> c") == "<p>a bold c</p>\n"
    assert render('x <a href="https://e.example">y</a>') == "<p>x y</p>\n"
    assert render("<script>alert(1)</script>") == "\n"  # an HTML block, omitted whole
    assert render("<div>\n*hidden*\n</div>\n\nshown") == "\n<p>shown</p>\n"


def test_an_image_is_shown_as_its_alt_text() -> None:
    assert render('See ![a *grey* cat](https://e.example/cat.png "Tom") here') == (
        "<p>See a grey cat here</p>\n"
    )
    assert render("![](https://e.example/cat.png)") == "<p></p>\n"
    assert render("[![logo](https://e.example/l.png)](https://e.example)") == (
        f'<p><a href="https://e.example" {REL}>logo</a></p>\n'
    )


def test_links_without_a_safe_absolute_url_keep_no_href() -> None:
    for target in ("javascript:alert(1)", "vbscript:x", "data:text/html,x", "/path", "#top"):
        assert render(f"[x]({target})") == f"<p><a {REL}>x</a></p>\n", target


def test_blocks() -> None:
    assert render("# Title\n\n> quoted\n\n- one\n- two\n\n1. first\n\n```\na < b\n```\n\n---") == (
        "<h1>Title</h1>\n"
        "<blockquote>\n<p>quoted</p>\n</blockquote>\n"
        "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
        "<ol>\n<li>first</li>\n</ol>\n"
        "<pre><code>a &lt; b\n</code></pre>\n"
        "<hr>\n"
    )


def test_entities_and_breaks() -> None:
    assert render("&copy; &amp; &bogus; 3 < 4\\\nnext  \nlast") == (
        "<p>© &amp; &amp;bogus; 3 &lt; 4<br>\nnext<br>\nlast</p>\n"
    )


def test_quotes_nest_at_most_max_quote_depth_deep() -> None:
    out = render(">" * 10_000 + "deep")
    assert out.count("<blockquote>") == out.count("</blockquote>") == MAX_QUOTE_DEPTH
    assert "<p>deep</p>" in out


def test_lone_surrogates_and_nul_become_the_replacement_character() -> None:
    assert render("a\ud800b\x00c") == "<p>a\ufffdb\ufffdc</p>\n"


def test_html_from_an_import_is_only_sanitised() -> None:
    imported = '<p>hi <img src=x onerror=y><a href="https://e.example">x</a> *no*</p>'
    assert render(imported, "html") == f'<p>hi <a href="https://e.example" {REL}>x</a> *no*</p>'
