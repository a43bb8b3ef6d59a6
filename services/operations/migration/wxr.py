"""Read a WordPress export (WXR): posts and pages with their comments."""

from datetime import UTC, datetime
from pathlib import Path
from xml.etree.ElementTree import Element

from defusedxml import ElementTree

from services.operations.migration.source import (
    ParsedExport,
    Skipped,
    SourceComment,
    SourceStatus,
    SourceThread,
    identity_for,
    thread_id_or,
)

STATUSES: dict[str, SourceStatus] = {"1": "approved", "0": "pending", "spam": "spam"}
LIKE_KEYS = ("likes", "_likes", "_commentstream_likes")


def parse_wxr(path: Path) -> ParsedExport:
    root = ElementTree.parse(path).getroot()
    wp = _namespace(root, "http://wordpress.org/export/")
    content = "{http://purl.org/rss/1.0/modules/content/}"
    threads: list[SourceThread] = []
    skipped: list[Skipped] = []
    for item in root.iter("item"):
        if _text(item, f"{wp}post_type") not in ("post", "page"):
            continue
        post_id = _text(item, f"{wp}post_id") or "0"
        thread = SourceThread(
            thread_id=thread_id_or(_text(item, f"{wp}post_name"), f"wp-{post_id}"),
            title=_text(item, "title"),
            url=_text(item, "link"),
        )
        for node in item.findall(f"{wp}comment"):
            source_id = _text(node, f"{wp}comment_id") or ""
            kind = _text(node, f"{wp}comment_type") or "comment"
            approved = _text(node, f"{wp}comment_approved") or "1"
            if kind not in ("comment", ""):
                skipped.append(Skipped(thread.thread_id, source_id, f"{kind} is not a comment"))
                continue
            if approved not in STATUSES:
                skipped.append(Skipped(thread.thread_id, source_id, f"status {approved!r}"))
                continue
            email = _text(node, f"{wp}comment_author_email")
            name = _text(node, f"{wp}comment_author")
            parent = _text(node, f"{wp}comment_parent")
            thread.comments.append(
                SourceComment(
                    source_id=source_id,
                    parent_source_id=parent if parent and parent != "0" else None,
                    identity=identity_for(
                        "wp",
                        user=_nonzero(_text(node, f"{wp}comment_user_id")),
                        email=email,
                        name=name,
                    ),
                    name=name,
                    email=email,
                    website=_text(node, f"{wp}comment_author_url"),
                    body_html=_text(node, f"{wp}comment_content") or "",
                    created_at=_time(node, wp),
                    status=STATUSES[approved],
                    likes=_likes(node, wp),
                )
            )
        if _text(item, f"{content}encoded") is not None or thread.comments:
            threads.append(thread)
    return ParsedExport(threads, skipped)


def _namespace(root: Element, prefix: str) -> str:
    for element in root.iter():
        if element.tag.startswith("{" + prefix):
            return element.tag.split("}")[0] + "}"
    return "{http://wordpress.org/export/1.2/}"


def _text(node: Element, tag: str) -> str | None:
    found = node.find(tag)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _nonzero(value: str | None) -> str | None:
    return value if value and value != "0" else None


def _time(node: Element, wp: str) -> datetime:
    for tag, zone in (("comment_date_gmt", UTC), ("comment_date", UTC)):
        value = _text(node, f"{wp}{tag}")
        if value and not value.startswith("0000"):
            return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone)
    return datetime(1970, 1, 1, tzinfo=UTC)


def _likes(node: Element, wp: str) -> int:
    for meta in node.findall(f"{wp}commentmeta"):
        if _text(meta, f"{wp}meta_key") in LIKE_KEYS:
            value = _text(meta, f"{wp}meta_value") or "0"
            return int(value) if value.isdigit() else 0
    return 0
