"""The allow-list every rendered comment must pass, checked on the HTML itself: only the
renderer's ALLOWED_TAGS and ALLOWED_ATTRIBUTES (and the rel nh3 sets), every href http, https or
mailto, no event handler, no script URL, no comment, declaration or processing instruction."""

import html
import re
from html.parser import HTMLParser

from projections.thread_view.rendering import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, LINK_REL

SAFE_SCHEMES = ("http:", "https:", "mailto:")
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:")
# What a browser ignores in a scheme: whitespace and C0 controls (`java\tscript:` is javascript:).
_IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20\x7f]+")


def scheme_of(url: str) -> str:
    """How a URL starts, as a browser reads it: entities decoded, whitespace and controls out."""
    return _IGNORED_IN_SCHEME.sub("", html.unescape(url)).lower()


class AllowListCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"event handler {name}")
            # (A title is text: "javascript:" there, or in an https URL's path, runs nothing.)
            if name != "title" and scheme_of(value).startswith(SCRIPT_SCHEMES):
                self.problems.append(f"script URL in {tag}.{name}={value!r}")
            if tag == "a" and name == "rel":
                if value != LINK_REL:
                    self.problems.append(f"rel {value!r}")
            elif name not in ALLOWED_ATTRIBUTES.get(tag, set()):
                self.problems.append(f"attribute {tag}.{name}")
            elif name == "href" and not value.lower().startswith(SAFE_SCHEMES):
                self.problems.append(f"href {value!r}")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag </{tag}>")

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"comment {data[:40]!r}")

    def handle_decl(self, decl: str) -> None:
        self.problems.append(f"declaration {decl[:40]!r}")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"processing instruction {data[:40]!r}")

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"declaration {data[:40]!r}")


def markup_problems(markup: str) -> list[str]:
    """What in `markup` is outside the allow-list (nothing, we hope)."""
    checker = AllowListCheck()
    checker.feed(markup)
    checker.close()
    if "<script" in markup.lower():
        checker.problems.append("<script in the output")
    return checker.problems
