"""Pre-rendered comment fragments, so a page of a thread is assembled, not re-serialised.

The projector stores, per comment, the public part of its JSON (what `CommentView` shows to
anyone) as an open object: `{"id":…,…,"status":"…"` without the closing brace. A reader adds
the like count and the caller's own fields, then the replies, and closes it. Besides the
fragments, the projector keeps the thread's top-level comments in a sorted set (by time) and,
per top-level comment, its descendants in order as `child:parent,child:parent,…`.

`assemble_comments` gives byte-for-byte the JSON `build_thread_view` would give for the same
comments; a property test holds the two together.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from pydantic import TypeAdapter

from projections.thread_view.model import CommentRecord
from projections.thread_view.query import Viewer, comment_view

VISIBLE_SUFFIX = ',"status":"visible"'
_TIME = TypeAdapter(datetime)  # writes times as the rest of the API does (`…Z` for UTC)


FRAGMENT_FIELDS = {
    "id",
    "parent_id",
    "author",
    "html",
    "created_at",
    "edited_at",
    "pinned",
    "status",
}


def public_fragment(record: CommentRecord) -> str:
    """The open JSON object anyone may see of one comment (no likes, no replies)."""
    return comment_view(record, 0, None).model_dump_json(include=FRAGMENT_FIELDS)[:-1]


def held_fragment(record: CommentRecord) -> str:
    """What the author of a comment held for moderation sees of it (its content, status
    pending), kept beside the public fragments as `author_id fragment`."""
    author = Viewer(actor_id=record.author_id, anonymous=False)
    fragment = comment_view(record, 0, author).model_dump_json(include=FRAGMENT_FIELDS)[:-1]
    return f"{record.author_id} {fragment}"


def viewers_held(held: Mapping[str, str], viewer: Viewer) -> dict[str, str]:
    """The held comments' fragments the viewer may see (their own; a moderator, all), from a
    thread's `author_id fragment` values."""
    shown = {}
    for comment_id, value in held.items():
        author, _, fragment = value.partition(" ")
        if viewer.moderator or author == viewer.actor_id:
            shown[comment_id] = fragment
    return shown


def root_score(record: CommentRecord) -> int:
    """A top-level comment's place in its thread's sorted set: its time in microseconds."""
    return int(record.created_at.timestamp() * 1_000_000)


def append_reply(descendants: str | None, child: str, parent: str) -> str:
    """A top-level comment's descendant list with one more reply at its end."""
    pair = f"{child}:{parent}"
    return f"{descendants},{pair}" if descendants else pair


def reply_pairs(descendants: str | None) -> list[tuple[str, str]]:
    """(child, parent) pairs of a descendant list, in the order they were posted."""
    if not descendants:
        return []
    return [(pair[0], pair[1]) for pair in (item.split(":") for item in descendants.split(","))]


@dataclass(frozen=True)
class Mine:
    """What the caller may do with their own comment: edit it until when (None: no limit).
    Its source is not on the page: the edit form asks for it (GET …/comments/{id}/source)."""

    editable_until: datetime | None


def own_comments(records: Mapping[str, str | None], viewer: Viewer) -> dict[str, Mine]:
    """The caller's visible comments among stored records (raw JSON, as in Redis)."""
    mine: dict[str, Mine] = {}
    for comment_id, raw in records.items():
        if not raw:
            continue
        record = orjson.loads(raw)  # stored without its id and defaults (model.stored_record)
        status = record.get("status", CommentRecord.model_fields["status"].default)
        if record["author_id"] != viewer.actor_id or status != "visible":
            continue
        created = datetime.fromisoformat(record["created_at"]).astimezone(UTC)
        mine[comment_id] = Mine(
            editable_until=created + viewer.edit_window if viewer.anonymous else None,
        )
    return mine


def _closing(likes: int, liked: bool, mine: Mine | None) -> str:
    if mine is None:
        return f',"likes":{{"count":{likes},"liked_by_me":{"true" if liked else "false"}}}' + (
            ',"mine":false,"editable_until":null'
        )
    until = "null"
    if mine.editable_until is not None:
        until = _TIME.dump_json(mine.editable_until).decode()
    return (
        f',"likes":{{"count":{likes},"liked_by_me":{"true" if liked else "false"}}}'
        f',"mine":true,"editable_until":{until}'
    )


def assemble_comments(
    roots: list[str],
    descendants: Mapping[str, str | None],
    fragments: Mapping[str, str | None],
    like_counts: Mapping[str, int],
    liked: frozenset[str] = frozenset(),
    mine: Mapping[str, Mine] | None = None,
    held: Mapping[str, str] | None = None,
    left_out: frozenset[str] = frozenset(),
) -> list[str | None]:
    """Each top-level comment with its reply tree as JSON, None for one not to show (not
    visible and without a visible reply, or `left_out`); a deleted parent stays as a
    placeholder. `held` has the caller's own held comments' fragments (held_fragment)."""
    own = mine or {}
    held_here = held or {}

    def render(comment_id: str, children: Mapping[str, list[str]]) -> str | None:
        fragment = held_here.get(comment_id) or fragments.get(comment_id)
        if fragment is None or comment_id in left_out:
            return None
        replies = [shown for child in children[comment_id] if (shown := render(child, children))]
        if not replies and not fragment.endswith(VISIBLE_SUFFIX) and comment_id not in held_here:
            return None
        closing = _closing(like_counts.get(comment_id, 0), comment_id in liked, own.get(comment_id))
        return f'{fragment}{closing},"replies":[{",".join(replies)}]}}'

    shown: list[str | None] = []
    for root in roots:
        children: dict[str, list[str]] = defaultdict(list)
        for child, parent in reply_pairs(descendants.get(root)):
            children[parent].append(child)
        shown.append(render(root, children))
    return shown


def standalone_comment(fragment: str, likes: int) -> str:
    """One comment's JSON as anyone sees it, whatever its status, without its replies."""
    return f'{fragment}{_closing(likes, False, None)},"replies":[]}}'


def page_ids(roots: list[str], descendants: Mapping[str, str | None]) -> list[str]:
    """Every comment id a page of `roots` shows, roots first."""
    return roots + [child for root in roots for child, _ in reply_pairs(descendants.get(root))]
