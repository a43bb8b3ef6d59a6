"""Read a Disqus XML export: threads and their posts."""

from datetime import UTC, datetime
from pathlib import Path
from xml.etree.ElementTree import Element

from defusedxml import ElementTree

from services.operations.migration.source import (
    ParsedExport,
    Skipped,
    SourceComment,
    SourceThread,
    identity_for,
    thread_id_or,
)

NS = "{http://disqus.com}"
DSQ_ID = "{http://disqus.com/disqus-internals}id"


def parse_disqus(path: Path) -> ParsedExport:
    root = ElementTree.parse(path).getroot()
    threads: dict[str, SourceThread] = {}
    for node in root.findall(f"{NS}thread"):
        dsq_id = node.get(DSQ_ID, "")
        threads[dsq_id] = SourceThread(
            thread_id=thread_id_or(_text(node, "id"), f"disqus-{dsq_id}"),
            title=_text(node, "title"),
            url=_text(node, "link"),
        )
    skipped: list[Skipped] = []
    for node in root.findall(f"{NS}post"):
        source_id = node.get(DSQ_ID, "")
        thread_ref = node.find(f"{NS}thread")
        thread = threads.get(thread_ref.get(DSQ_ID, "") if thread_ref is not None else "")
        if thread is None:
            skipped.append(Skipped("?", source_id, "its thread is not in the export"))
            continue
        if _flag(node, "isDeleted"):
            skipped.append(Skipped(thread.thread_id, source_id, "deleted on Disqus"))
            continue
        author = node.find(f"{NS}author")
        name = _text(author, "name") if author is not None else None
        email = _text(author, "email") if author is not None else None
        username = _text(author, "username") if author is not None else None
        parent = node.find(f"{NS}parent")
        approved = node.find(f"{NS}isApproved")
        status = (
            "spam"
            if _flag(node, "isSpam")
            else "pending"
            if approved is not None and (approved.text or "").strip() == "false"
            else "approved"
        )
        thread.comments.append(
            SourceComment(
                source_id=source_id,
                parent_source_id=parent.get(DSQ_ID) if parent is not None else None,
                identity=identity_for("disqus", user=username, email=email, name=name),
                name=name,
                email=email,
                website=None,
                body_html=_text(node, "message") or "",
                created_at=_time(_text(node, "createdAt")),
                status=status,  # type: ignore[arg-type]
            )
        )
    return ParsedExport(list(threads.values()), skipped)


def _text(node: Element | None, tag: str) -> str | None:
    if node is None:
        return None
    found = node.find(f"{NS}{tag}")
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _flag(node: Element, tag: str) -> bool:
    return (_text(node, tag) or "false").lower() == "true"


def _time(value: str | None) -> datetime:
    if not value:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
