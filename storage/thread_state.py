"""How the decider's state of a thread is kept in its Redis hash: one field per comment.

A command reads only the fields it needs (`comments_needed`), and an append writes only the
fields that changed, so neither grows with the size of the thread.

Fields: `version`, `head` (the hash chain head), `thread` (started, title, url as JSON) and
`c:<comment id>` (a `CommentState` as JSON, without its id and default values, which the field
name and the model give back).
"""

from collections.abc import Iterable, Mapping

import orjson
from pydantic import BaseModel, ConfigDict

from events.decider import CommentState, ThreadState
from events.envelope import GENESIS_HASH

VERSION_FIELD = "version"
HEAD_FIELD = "head"
THREAD_FIELD = "thread"
HEADER_FIELDS = (VERSION_FIELD, HEAD_FIELD, THREAD_FIELD)
COMMENT_PREFIX = "c:"


class ThreadHeader(BaseModel):
    model_config = ConfigDict(frozen=True)

    started: bool = False
    title: str | None = None
    url: str | None = None


def comment_field(comment_id: str) -> str:
    return f"{COMMENT_PREFIX}{comment_id}"


def fields_to_read(comment_ids: Iterable[str]) -> list[str]:
    return [*HEADER_FIELDS, *(comment_field(cid) for cid in comment_ids)]


def state_from_fields(values: Mapping[str, str | None]) -> ThreadState:
    """The state (or the part of it that was read) from the hash's fields."""
    header = ThreadHeader.model_validate_json(values[THREAD_FIELD] or "{}")
    comments = {}
    for name, raw in values.items():
        if name.startswith(COMMENT_PREFIX) and raw:
            comment_id = name[len(COMMENT_PREFIX) :]
            comments[comment_id] = CommentState.model_validate(
                {**orjson.loads(raw), "id": comment_id}
            )
    return ThreadState(
        version=int(values.get(VERSION_FIELD) or 0),
        head_hash=values.get(HEAD_FIELD) or GENESIS_HASH,
        started=header.started,
        title=header.title,
        url=header.url,
        comments=comments,
    )


def state_fields(state: ThreadState, comment_ids: Iterable[str] | None = None) -> list[str]:
    """Field/value pairs of the thread header and of the given comments (all when None)."""
    header = ThreadHeader(started=state.started, title=state.title, url=state.url)
    ids = state.comments if comment_ids is None else comment_ids
    pairs = [THREAD_FIELD, header.model_dump_json()]
    for comment_id in ids:
        comment = state.comments[comment_id]
        pairs += [
            comment_field(comment_id),
            comment.model_dump_json(exclude={"id"}, exclude_defaults=True),
        ]
    return pairs


def changed_fields(before: ThreadState, after: ThreadState) -> list[str]:
    """Field/value pairs an append writes: the header and every comment that changed."""
    changed = [cid for cid, c in after.comments.items() if before.comments.get(cid) != c]
    return state_fields(after, changed)


def whole_state(state: ThreadState) -> dict[str, str | int]:
    """Every field of a thread's state hash, for writing it afresh (an import)."""
    pairs = state_fields(state)
    fields: dict[str, str | int] = {VERSION_FIELD: state.version, HEAD_FIELD: state.head_hash}
    fields.update(zip(pairs[::2], pairs[1::2], strict=True))
    return fields
