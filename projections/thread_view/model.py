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
    # The log position of the event whose body the comment shows (its post or last edit): the
    # record keeps no copy of the source, which is unsealed from the log when needed (the
    # author's edit form, a moderator's verdict that shows it again). None once erased.
    source_at: str | None = None
    markup: str = "markdown"
    created_at: datetime
    edited_at: datetime | None = None
    status: str = "visible"  # visible | deleted | pending | rejected | spam
    pinned: bool = False


def stored_record(record: CommentRecord) -> str:
    """A record as its hash keeps it: without its id (the field name), its HTML (the public
    fragment holds it: every event that changes a record renders or blanks it again, so it is
    never read back), its avatar (its author's id gives it back), its default values, and no
    copy of its source (`source_at` says where it is in the log)."""
    return record.model_dump_json(exclude={"id", "html", "avatar"}, exclude_defaults=True)


def record_from_stored(comment_id: str, raw: str | bytes) -> CommentRecord:
    stored = orjson.loads(raw)
    return CommentRecord.model_validate(
        {**stored, "id": comment_id, "avatar": avatar_seed(stored["author_id"])}
    )


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
    """The meta of one thread and the comments a batch touches, keyed by comment id; and the
    sources, unsealed from the log, of those a batch shows again (see `needs_source`)."""

    model_config = ConfigDict(frozen=True)

    meta: ThreadMeta = ThreadMeta()
    comments: dict[str, CommentRecord] = {}
    sources: dict[str, str] = {}


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
                    source_at=envelope.position if personal else None,
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
                        "source_at": envelope.position if personal else None,
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
                        "source_at": None,
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
            comments = {**comments, comment.id: _rendered(comment, view, status=status)}
        case CommentReported(hold=True):
            comment = comments[event.comment_id]
            if comment.status == "visible":
                meta = meta.model_copy(update={"count": meta.count - 1})
                comments = {**comments, comment.id: _rendered(comment, view, status="pending")}
        case CommentPinned() | CommentUnpinned():
            comment = comments[event.comment_id]
            pinned = isinstance(event, CommentPinned)
            others = [cid for cid in meta.pinned_ids() if cid != comment.id]
            meta = meta.model_copy(
                update={"pinned": ",".join(([comment.id] if pinned else []) + others)}
            )
            comments = {**comments, comment.id: _rendered(comment, view, pinned=pinned)}
        case ThreadLocked() | ThreadUnlocked():
            meta = meta.model_copy(update={"locked": isinstance(event, ThreadLocked)})
    # (built without validation: meta and every record are validated models already)
    return ThreadSlice.model_construct(meta=meta, comments=comments, sources=view.sources)


_VERDICTS: dict[type, str] = {
    CommentApproved: "visible",
    CommentRejected: "rejected",
    CommentMarkedSpam: "spam",
}


def _rendered(record: CommentRecord, view: ThreadSlice, **changes: object) -> CommentRecord:
    """A record with `changes`, rendered again for its fragment: from the HTML it has when the
    same batch made it, else from its source (a record read back from the store has no HTML,
    see stored_record)."""
    if record.status == "deleted":
        return record.model_copy(update=changes)
    if record.html:
        html = record.html
    elif record.source_at is None:  # erased
        html = ERASED_HTML
    else:
        html = render(view.sources[record.id], record.markup)
    return record.model_copy(update={**changes, "html": html})


def needs_source(record: CommentRecord) -> bool:
    """Whether showing `record` again (a verdict, a pin) needs its source from the log."""
    return record.status != "deleted" and not record.html and record.source_at is not None


def _erased(record: CommentRecord) -> CommentRecord:
    """What is left of an erased author's comment: the same as replaying it without the key."""
    if record.status == "deleted":
        return record
    return record.model_copy(
        update={"name": ERASED, "website": None, "html": ERASED_HTML, "source_at": None}
    )
