"""Apply a parsed export through the same decider as live commands.

Each comment keeps its original time, author, parent and status (pending and spam stay hidden,
kept as such); its id is derived from the source id, so importing the same file twice adds
nothing. Replies whose parent is missing become top-level comments, and the summary says so.
"""

from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import ValidationError

from events.actors import Actor
from events.commands import Command, LikeComment, PostComment, Reply
from events.identifiers import new_message_id
from events.personal import AuthorDetails
from services.operations.migration.source import ParsedExport, Skipped, SourceComment, SourceThread
from services.processor.command_handler import CommandHandler

NAME_LIMIT = 80


@dataclass
class ImportSummary:
    threads: int = 0
    imported: int = 0
    already_present: int = 0
    likes: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    reparented: list[dict[str, str]] = field(default_factory=list)
    dropped_fields: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def import_export(
    handler: CommandHandler, parsed: ParsedExport, site: str, prefix: str
) -> ImportSummary:
    summary = ImportSummary(skipped=[asdict(s) for s in parsed.skipped])
    for thread in parsed.threads:
        if not thread.comments:
            summary.skipped.append(asdict(Skipped(thread.thread_id, "", "a post with no comments")))
            continue
        summary.threads += 1
        await _import_thread(handler, thread, site, prefix, summary)
    return summary


async def _import_thread(
    handler: CommandHandler, thread: SourceThread, site: str, prefix: str, summary: ImportSummary
) -> None:
    present = {c.source_id for c in thread.comments}
    for comment in sorted(thread.comments, key=lambda c: (c.created_at, c.source_id)):
        comment_id = f"{prefix}{comment.source_id}"
        parent = comment.parent_source_id
        if parent is not None and parent not in present:
            summary.reparented.append(
                {
                    "thread": thread.thread_id,
                    "source_id": comment.source_id,
                    "reason": f"parent {parent} is not in the export: imported as top-level",
                }
            )
            parent = None
        command = _command(comment, thread, site, comment_id, parent, prefix, summary)
        if command is None:
            continue
        outcome = await handler.handle(command, occurred_at=comment.created_at)
        if outcome.status == "rejected":
            summary.skipped.append(
                {
                    "thread": thread.thread_id,
                    "source_id": comment.source_id,
                    "reason": f"{outcome.code}: {outcome.message}",
                }
            )
            continue
        if outcome.code == "already_imported":
            summary.already_present += 1
        else:
            summary.imported += 1
            summary.by_status[comment.status] = summary.by_status.get(comment.status, 0) + 1
        for n in range(comment.likes):
            like = LikeComment(
                command_id=f"import-{prefix}{comment.source_id}-like{n}-{new_message_id()}",
                site=site,
                thread=thread.thread_id,
                actor=Actor(id=f"{prefix}-liker:{comment.source_id}-{n}"),
                comment_id=comment_id,
            )
            liked = await handler.handle(like, occurred_at=comment.created_at)
            if liked.status == "accepted" and liked.code is None:
                summary.likes += 1


def _command(
    comment: SourceComment,
    thread: SourceThread,
    site: str,
    comment_id: str,
    parent: str | None,
    prefix: str,
    summary: ImportSummary,
) -> Command | None:
    author = _author(comment, thread, summary)
    fields: dict[str, Any] = {
        # A fresh command id per run: the decider, not the command log, recognises a comment
        # imported before (by its id from the source), so a rerun reports it as present.
        "command_id": f"import-{prefix}{comment.source_id}-{new_message_id()}",
        "site": site,
        "thread": thread.thread_id,
        "actor": Actor(id=comment.identity, kind="service"),
        "body": comment.body_html,
        "author": author,
        "comment_id": comment_id,
        "status": comment.status,
        "markup": "html",
    }
    for name, value in (("title", thread.title), ("url", thread.url)):
        try:
            PostComment.model_validate({**fields, name: value})
            fields[name] = value
        except ValidationError:
            _drop(summary, thread, comment, name, value)
    try:
        if parent is not None:
            return Reply(**fields, parent_id=f"{prefix}{parent}")
        return PostComment(**fields)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        summary.skipped.append(
            {
                "thread": thread.thread_id,
                "source_id": comment.source_id,
                "reason": f"{where}: {problem['msg']}",
            }
        )
        return None


def _author(comment: SourceComment, thread: SourceThread, summary: ImportSummary) -> AuthorDetails:
    """The author's details, each one kept only if it is valid (the summary lists the rest)."""
    kept: dict[str, str] = {}
    name = (comment.name or "").strip()[:NAME_LIMIT]
    for key, value in (("name", name), ("email", comment.email), ("website", comment.website)):
        if not value:
            continue
        try:
            AuthorDetails.model_validate({key: value})
            kept[key] = value
        except ValidationError:
            _drop(summary, thread, comment, f"author.{key}", value)
    return AuthorDetails.model_validate(kept)


def _drop(
    summary: ImportSummary, thread: SourceThread, comment: SourceComment, name: str, value: Any
) -> None:
    summary.dropped_fields.append(
        {
            "thread": thread.thread_id,
            "source_id": comment.source_id,
            "field": name,
            "value": str(value)[:80],
        }
    )
