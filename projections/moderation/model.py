"""The moderation read model and its fold: each comment's moderation record, the queues it is
in, and the verdicts on each author. Pure: no I/O.

Queues, oldest first: `pending` (held by the policy), `reported` (published, reported since the
last verdict) and `spam`. A verdict (approve, reject, spam) answers every report so far.
"""

from datetime import datetime
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict

from events.envelope import EventEnvelope
from events.thread_events import (
    AuthorBanned,
    AuthorUnbanned,
    CommentApproved,
    CommentDeleted,
    CommentMarkedSpam,
    CommentPosted,
    CommentRejected,
    CommentReported,
)

QueueName = Literal["pending", "reported", "spam"]
QUEUES: tuple[QueueName, ...] = ("pending", "reported", "spam")
Verdict = Literal["approved", "rejected", "spam"]
VERDICTS: tuple[Verdict, ...] = ("approved", "rejected", "spam")
KEPT_REPORT_REASONS = 5
COMMENT_EVENTS = (
    CommentPosted,
    CommentApproved,
    CommentRejected,
    CommentMarkedSpam,
    CommentReported,
    CommentDeleted,
)
BAN_EVENTS = (AuthorBanned, AuthorUnbanned)
EVENT_TYPES = frozenset(cls.__name__ for cls in (*COMMENT_EVENTS, *BAN_EVENTS))


class BanRecord(BaseModel):
    """A ban as the moderators list it (who is named only by keyed hashes)."""

    model_config = ConfigDict(frozen=True)

    ban_id: str
    subjects: tuple[str, ...]
    until: datetime | None = None
    reason: str | None = None
    hide_comments: bool = False
    by: str
    at: datetime

    @property
    def kinds(self) -> list[str]:
        return sorted({subject.partition(":")[0] for subject in self.subjects})


class BannedSubject(BaseModel):
    """What the processor needs to know of a banned subject: which ban, until when."""

    model_config = ConfigDict(frozen=True)

    ban_id: str
    until: datetime | None = None

    def in_force(self, now: datetime) -> bool:
        return self.until is None or now < self.until


class ModerationRecord(BaseModel):
    """One comment as the moderators' queues know it (its content is the thread view's)."""

    model_config = ConfigDict(frozen=True)

    thread: str
    comment_id: str
    parent_id: str | None = None
    author_id: str
    created_at: datetime
    status: Literal["approved", "pending", "rejected", "spam", "deleted"] = "approved"
    held_for: tuple[str, ...] = ()
    spam_score: float | None = None
    reports: int = 0  # since the last verdict
    report_reasons: tuple[str, ...] = ()  # the latest few
    queued_at: datetime | None = None  # when it entered the queue it is in

    @property
    def ref(self) -> str:
        return item_ref(self.thread, self.comment_id)

    @property
    def queue(self) -> QueueName | None:
        if self.status == "pending":
            return "pending"
        if self.status == "spam":
            return "spam"
        if self.status == "approved" and self.reports:
            return "reported"
        return None


def item_ref(thread: str, comment_id: str) -> str:
    """A comment's name in a site's queues (a thread id has no `/`)."""
    return f"{thread}/{comment_id}"


def stored_item(record: ModerationRecord) -> str:
    """A record as the site's items hash keeps it, under its ref: without the thread and the
    comment id (the ref names them) and without its default values."""
    return record.model_dump_json(exclude={"thread", "comment_id"}, exclude_defaults=True)


def item_from_stored(ref: str, raw: str | bytes) -> ModerationRecord:
    thread, _, comment_id = ref.partition("/")
    return ModerationRecord.model_validate(
        orjson.loads(raw) | {"thread": thread, "comment_id": comment_id}
    )


_VERDICT_OF: dict[type, Verdict] = {
    CommentApproved: "approved",
    CommentRejected: "rejected",
    CommentMarkedSpam: "spam",
}


def apply(
    record: ModerationRecord | None, envelope: EventEnvelope
) -> tuple[ModerationRecord | None, Verdict | None]:
    """Fold one event into its comment's record; also the verdict it gives its author."""
    event = envelope.event()
    at = envelope.occurred_at
    match event:
        case CommentPosted():
            posted = ModerationRecord(
                thread=envelope.thread,
                comment_id=event.comment_id,
                parent_id=event.parent_id,
                author_id=envelope.actor.id,
                created_at=at,
                status=event.status,
                held_for=event.held_for,
                spam_score=event.spam_score,
                queued_at=at if event.status != "approved" else None,  # in a queue from now on
            )
            return posted, "approved" if event.status == "approved" else None
        case CommentApproved() | CommentRejected() | CommentMarkedSpam() if record is not None:
            verdict = _VERDICT_OF[type(event)]
            status = verdict
            changed = record.model_copy(
                update={"status": status, "reports": 0, "report_reasons": (), "queued_at": at}
            )
            return changed, verdict
        case CommentReported() if record is not None:
            reasons = (*record.report_reasons, event.reason)[-KEPT_REPORT_REASONS:]
            update: dict[str, object] = {"reports": record.reports + 1, "report_reasons": reasons}
            if event.hold:  # now in the pending queue, held for its reports
                update |= {"status": "pending", "held_for": ("reported",), "queued_at": at}
            elif not record.reports:
                update["queued_at"] = at
            return record.model_copy(update=update), None
        case CommentDeleted() if record is not None:
            return record.model_copy(update={"status": "deleted", "reports": 0}), None
    return record, None
