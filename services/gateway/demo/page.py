"""The demo blog post page: the seed post, a listing-style count link, and the one-tag widget."""

from html import escape

from services.gateway.demo.content import POST, THREAD, TITLE

STYLE = """
body { margin: 0; font: 17px/1.6 Georgia, 'Times New Roman', serif; color: #222; background: #fafafa; }
body.dark { color: #e8e8e8; background: #15171a; }
body.dark header p { color: #b0b3b8; }
main { max-width: 44rem; margin: 0 auto; padding: 2rem 1.25rem 4rem; }
header p { color: #595959; font: 14px/1.4 system-ui, sans-serif; }
h1 { font-size: 2.1rem; line-height: 1.2; margin: 0 0 .4rem; }
h2 { font-size: 1.3rem; margin-top: 2rem; }
a { color: #1a5fb4; } body.dark a { color: #8ab4f8; }
#commentstream { margin-top: 3rem; }
"""


def demo_page(site: str, lang: str | None, theme: str | None) -> str:
    """The whole HTML page; `lang` and `theme` are passed on to the widget as data attributes."""
    body = "\n".join(f"<{tag}>{escape(text)}</{tag}>" for tag, text in POST)
    options = "".join(
        f' data-{name}="{escape(value)}"'
        for name, value in (("lang", lang), ("theme", theme))
        if value
    )
    page_lang = escape(lang or "en")
    dark = ' class="dark"' if theme == "dark" else ""
    return f"""<!doctype html>
<html lang="{page_lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(TITLE)} · commentstream demo</title>
<style>{STYLE}</style>
</head>
<body{dark}>
<main>
<article>
<header>
<h1>{escape(TITLE)}</h1>
<p>A demo post · <a href="#commentstream" data-commentstream-count="{THREAD}"
   data-commentstream-site="{escape(site)}">comments</a></p>
</header>
{body}
</article>
<div id="commentstream"></div>
</main>
<script src="/widget.js" data-site="{escape(site)}" data-thread="{THREAD}"
        data-title="{escape(TITLE)}"{options} async></script>
<script src="/count.js" async></script>
</body>
</html>
"""
