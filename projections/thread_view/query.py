"""Build one page of a thread view from its records. Pure: the reader loads, this shapes.

Top-level comments are sorted and paged by an opaque cursor (the sort key of the last one
shown); each carries its whole reply tree. Deleted comments stay as placeholders while they
have visible replies, and disappear otherwise.
"""

import base64
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel

from events.decider import DEFAULT_EDIT_WINDOW
from projections.thread_view.model import CommentRecord, ThreadMeta

SortOrder = Literal["oldest", "newest", "top"]


class Author(BaseModel):
    name: str | None
    avatar: str
    website: str | None


class Likes(BaseModel):
    count: int
    liked_by_me: bool


class CommentView(BaseModel):
    """One comment as readers see it; `mine` and `editable_until` are for the caller."""

    id: str
    parent_id: str | None
    author: Author
    html: str
    created_at: datetime
    edited_at: datetime | None
    pinned: bool = False
    status: str
    likes: Likes
    mine: bool = False
    editable_until: datetime | None = None
    replies: list["CommentView"] = []


class ThreadView(BaseModel):
    site: str
    thread: str
    title: str | None
    url: str | None
    count: int
    locked: bool = False  # no new comments: locked by a moderator or closed by the site's policy
    position: str | None
    comments: list[CommentView]
    next_cursor: str | None


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class Viewer:
    """Who is reading: their identity, which comments they like, how long they may edit."""

    actor_id: str
    anonymous: bool
    liked: frozenset[str] = frozenset()
    edit_window: timedelta = DEFAULT_EDIT_WINDOW
    moderator: bool = False  # sees every held comment in place, to approve or reject it


def comment_view(
    record: CommentRecord,
    like_count: int,
    viewer: Viewer | None,
    replies: list[CommentView] | None = None,
) -> CommentView:
    """The public form of one comment record; a held comment's author sees its content too."""
    visible = record.status == "visible" or own_held(record, viewer)
    # A deleted (or held) comment is no one's to edit: the page script's rule too (own_comments).
    mine = record.status == "visible" and viewer is not None and record.author_id == viewer.actor_id
    return CommentView(
        id=record.id,
        parent_id=record.parent_id,
        author=Author(
            name=record.name if visible else None,
            avatar=record.avatar,
            website=record.website if visible else None,
        ),
        html=record.html if visible else "",
        created_at=record.created_at,
        edited_at=record.edited_at,
        pinned=record.pinned,
        status=record.status,
        likes=Likes(count=like_count, liked_by_me=viewer is not None and record.id in viewer.liked),
        mine=mine,
        editable_until=(
            record.created_at + viewer.edit_window
            if mine and viewer is not None and viewer.anonymous
            else None
        ),
        replies=replies or [],
    )


def own_held(record: CommentRecord, viewer: Viewer | None) -> bool:
    """A comment held for moderation, shown to its author and the moderators (no one else)."""
    return (
        record.status == "pending"
        and viewer is not None
        and (viewer.moderator or record.author_id == viewer.actor_id)
    )


def build_thread_view(
    *,
    site: str,
    thread: str,
    meta: ThreadMeta,
    records: Mapping[str, CommentRecord],
    like_counts: Mapping[str, int],
    viewer: Viewer | None,
    sort: SortOrder,
    limit: int,
    cursor: str | None,
    position: str | None,
    auto_close_days: int = 0,
) -> ThreadView:
    """One page of the thread; pinned top-level comments come first on the first page (on top
    of `limit`) and not again in their place."""
    children: dict[str | None, list[CommentRecord]] = defaultdict(list)
    for record in records.values():
        parent = record.parent_id if record.parent_id in records else None
        children[parent].append(record)

    def view(record: CommentRecord) -> CommentView | None:
        replies = [
            reply
            for child in sorted(children[record.id], key=lambda r: (r.created_at, r.id))
            if (reply := view(child)) is not None
        ]
        if record.status != "visible" and not replies and not own_held(record, viewer):
            return None
        return comment_view(record, like_counts.get(record.id, 0), viewer, replies)

    def sort_key(record: CommentRecord) -> tuple[Any, ...]:
        stamp = record.created_at.timestamp()
        if sort == "top":
            return (-like_counts.get(record.id, 0), stamp, record.id)
        return (stamp, record.id)

    # "newest" is "oldest" backwards, ties (one millisecond) included, as the roots' sorted set
    # gives them to the page script (ZREVRANGE: score, then id, both descending).
    descending = sort == "newest"
    after = decode_cursor(cursor, sort)
    pinned = [cid for cid in meta.pinned_ids() if cid in records]
    top_level = [
        record
        for record in sorted(children[None], key=sort_key, reverse=descending)
        if record.id not in pinned
    ]
    page: list[CommentView] = []
    if cursor is None:
        page = [shown for cid in pinned if (shown := view(records[cid])) is not None]
    pinned_shown = len(page)
    last_key: tuple[Any, ...] | None = None
    more = False
    for record in top_level:
        key = sort_key(record)
        if after is not None and (key >= after if descending else key <= after):
            continue
        shown = view(record)
        if shown is None:
            continue
        if len(page) - pinned_shown == limit:
            more = True
            break
        page.append(shown)
        last_key = key
    return ThreadView(
        site=site,
        thread=thread,
        title=meta.title,
        url=meta.url,
        count=meta.count,
        locked=meta.closed(auto_close_days),
        position=position,
        comments=page,
        next_cursor=encode_cursor(sort, last_key) if more and last_key is not None else None,
    )


def encode_cursor(sort: SortOrder, key: tuple[Any, ...]) -> str:
    return base64.urlsafe_b64encode(json.dumps([sort, list(key)]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, sort: SortOrder) -> tuple[Any, ...] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        cursor_sort, key = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError) as error:
        raise InvalidCursor("cursor is not one this server gave out") from error
    if cursor_sort != sort or not isinstance(key, list):
        raise InvalidCursor("cursor belongs to another sort order")
    return tuple(key)
