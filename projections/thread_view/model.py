"""The thread view read model and its fold. Pure: no I/O.

The projector loads the slice of a thread that a batch touches (its meta and the comments the
events name), folds the events into it with `apply`, and writes back what changed.
"""

from datetime import UTC, datetime, timedelta

import orjson
from pydantic import BaseModel, ConfigDict

from events.envelope import EventEnvelope
from events.personal import PersonalData
from events.thread_events import (
    AuthorErased,
    CommentApproved,
    CommentDeleted,
    CommentEdited,
    CommentMarkedSpam,
    CommentPinned,
    CommentPosted,
    CommentRejected,
    CommentReported,
    CommentUnpinned,
    ThreadLocked,
    ThreadStarted,
    ThreadUnlocked,
)
from projections.thread_view.rendering import avatar_seed, render

ERASED = "[deleted]"
ERASED_HTML = "<p>[deleted]</p>"


class CommentRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    parent_id: str | None = None
    root_id: str | None = None  # the top-level comment of a reply's tree
    author_id: str
    name: str | None = None
    website: str | None = None
    avatar: str
    html: str = ""  # stored in the public fragment only (see stored_record)
    body: str = ""
    markup: str = "markdown"
    created_at: datetime
    edited_at: datetime | None = None
    status: str = "visible"  # visible | deleted | pending | rejected | spam
    pinned: bool = False


def stored_record(record: CommentRecord) -> str:
    """A record as its hash keeps it: without its id (the field name), its HTML (the public
    fragment holds it: every event that changes a record renders or blanks it again, so it is
    never read back) and its default values."""
    return record.model_dump_json(exclude={"id", "html"}, exclude_defaults=True)


def record_from_stored(comment_id: str, raw: str | bytes) -> CommentRecord:
    return CommentRecord.model_validate({**orjson.loads(raw), "id": comment_id})


class ThreadMeta(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str | None = None
    url: str | None = None
    count: int = 0
    version: int = 0
    locked: bool = False
    first_comment_at: datetime | None = None  # when a site's auto_close_days counts from
    pinned: str = ""  # the pinned top-level comments, most recently pinned first, comma-separated

    def pinned_ids(self) -> list[str]:
        return self.pinned.split(",") if self.pinned else []

    def closed(self, auto_close_days: int, now: datetime | None = None) -> bool:
        """Locked by a moderator, or past the site's `auto_close_days` since the first comment
        (the decider's rule, shown to readers so the form can say "Comments are closed")."""
        if self.locked:
            return True
        if not auto_close_days or self.first_comment_at is None:
            return False
        closes_at = self.first_comment_at + timedelta(days=auto_close_days)
        return (now or datetime.now(UTC)) >= closes_at


class ThreadSlice(BaseModel):
    """The meta of one thread and the comments a batch touches, keyed by comment id."""

    model_config = ConfigDict(frozen=True)

    meta: ThreadMeta = ThreadMeta()
    comments: dict[str, CommentRecord] = {}


def apply(view: ThreadSlice, envelope: EventEnvelope, personal: PersonalData | None) -> ThreadSlice:
    """Fold one event; `personal` is its unsealed data (None when the author was erased).

    For AuthorErased, `view` must hold every comment of the thread.

    An event at or below the version already folded changes nothing, so replays are harmless.
    """
    if envelope.thread_version <= view.meta.version:
        return view
    meta = view.meta.model_copy(update={"version": envelope.thread_version})
    comments = view.comments
    event = envelope.event()
    match event:
        case ThreadStarted():
            meta = meta.model_copy(update={"title": event.title, "url": event.url})
        case CommentPosted():
            parent = comments.get(event.parent_id) if event.parent_id else None
            comments = {
                **comments,
                event.comment_id: CommentRecord(
                    id=event.comment_id,
                    parent_id=event.parent_id,
                    root_id=(parent.root_id or parent.id) if parent else None,
                    author_id=envelope.actor.id,
                    name=personal.name if personal else ERASED,
                    website=personal.website if personal else None,
                    avatar=avatar_seed(envelope.actor.id),
                    html=render(personal.body or "", event.markup) if personal else ERASED_HTML,
                    body=personal.body or "" if personal else "",
                    markup=event.markup,
                    created_at=envelope.occurred_at,
                    status="visible" if event.status == "approved" else event.status,
                ),
            }
            if event.status == "approved":
                meta = meta.model_copy(update={"count": meta.count + 1})
            if meta.first_comment_at is None:
                meta = meta.model_copy(update={"first_comment_at": envelope.occurred_at})
        case CommentEdited():
            comment = comments[event.comment_id]
            comments = {
                **comments,
                comment.id: comment.model_copy(
                    update={
                        "html": render(personal.body or "", comment.markup)
                        if personal
                        else ERASED_HTML,
                        "body": personal.body or "" if personal else "",
                        "edited_at": envelope.occurred_at,
                    }
                ),
            }
        case CommentDeleted():
            comment = comments[event.comment_id]
            if comment.status == "visible":
                meta = meta.model_copy(update={"count": meta.count - 1})
            comments = {
                **comments,
                comment.id: comment.model_copy(
                    update={
                        "status": "deleted",
                        "html": "",
                        "body": "",
                        "name": None,
                        "website": None,
                    }
                ),
            }
        case AuthorErased():
            comments = {
                cid: _erased(record) if record.author_id == event.author_id else record
                for cid, record in comments.items()
            }
        case CommentApproved() | CommentRejected() | CommentMarkedSpam():
            comment = comments[event.comment_id]
            status = _VERDICTS[type(event)]
            was, now = comment.status == "visible", status == "visible"
            meta = meta.model_copy(update={"count": meta.count + int(now) - int(was)})
            comments = {**comments, comment.id: _rendered(comment, status=status)}
        case CommentReported(hold=True):
            comment = comments[event.comment_id]
            if comment.status == "visible":
                meta = meta.model_copy(update={"count": meta.count - 1})
                comments = {**comments, comment.id: _rendered(comment, status="pending")}
        case CommentPinned() | CommentUnpinned():
            comment = comments[event.comment_id]
            pinned = isinstance(event, CommentPinned)
            others = [cid for cid in meta.pinned_ids() if cid != comment.id]
            meta = meta.model_copy(
                update={"pinned": ",".join(([comment.id] if pinned else []) + others)}
            )
            comments = {**comments, comment.id: _rendered(comment, pinned=pinned)}
        case ThreadLocked() | ThreadUnlocked():
            meta = meta.model_copy(update={"locked": isinstance(event, ThreadLocked)})
    # (built without validation: meta and every record are validated models already)
    return ThreadSlice.model_construct(meta=meta, comments=comments)


_VERDICTS: dict[type, str] = {
    CommentApproved: "visible",
    CommentRejected: "rejected",
    CommentMarkedSpam: "spam",
}


def _rendered(record: CommentRecord, **changes: object) -> CommentRecord:
    """A record read back from the store (without its HTML, see stored_record) with `changes`,
    rendered again for its fragment."""
    if record.status == "deleted":
        return record.model_copy(update=changes)
    erased = record.name == ERASED and not record.body
    html = ERASED_HTML if erased else render(record.body, record.markup)
    return record.model_copy(update={**changes, "html": html})


def _erased(record: CommentRecord) -> CommentRecord:
    """What is left of an erased author's comment: the same as replaying it without the key."""
    if record.status == "deleted":
        return record
    return record.model_copy(
        update={"name": ERASED, "website": None, "html": ERASED_HTML, "body": ""}
    )
