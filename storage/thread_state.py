"""How the decider's state of a thread is kept in its Redis hash: one field per comment.

A command reads only the fields it needs (`comments_needed`), and an append writes only the
fields that changed, so neither grows with the size of the thread.

Fields: `version`, `head` (the hash chain head), `thread` (started, title, url, locked and the
first comment's time, as JSON), `c:<comment id>` (a `CommentState` as JSON, without its id and
default values, which the field name and the model give back), `f:<fingerprint>` (set when a
comment with that fingerprint of author and body is in the thread: how a duplicate is known)
and, in a site's `~bans` thread, `b:<ban id>` (set while the ban is in force, empty after).
"""

from collections.abc import Iterable, Mapping
from datetime import datetime

import orjson
from pydantic import BaseModel, ConfigDict

from events.decider import CommentState, ThreadState
from events.envelope import GENESIS_HASH

VERSION_FIELD = "version"
HEAD_FIELD = "head"
THREAD_FIELD = "thread"
HEADER_FIELDS = (VERSION_FIELD, HEAD_FIELD, THREAD_FIELD)
COMMENT_PREFIX = "c:"
FINGERPRINT_PREFIX = "f:"
BAN_PREFIX = "b:"


class ThreadHeader(BaseModel):
    model_config = ConfigDict(frozen=True)

    started: bool = False
    title: str | None = None
    url: str | None = None
    locked: bool = False
    first_comment_at: datetime | None = None


def comment_field(comment_id: str) -> str:
    return f"{COMMENT_PREFIX}{comment_id}"


def fingerprint_field(fingerprint: str) -> str:
    return f"{FINGERPRINT_PREFIX}{fingerprint}"


def fields_to_read(
    comment_ids: Iterable[str], fingerprints: Iterable[str] = (), bans: Iterable[str] = ()
) -> list[str]:
    return [
        *HEADER_FIELDS,
        *(comment_field(cid) for cid in comment_ids),
        *(fingerprint_field(fp) for fp in fingerprints),
        *(f"{BAN_PREFIX}{ban_id}" for ban_id in bans),
    ]


def state_from_fields(values: Mapping[str, str | None]) -> ThreadState:
    """The state (or the part of it that was read) from the hash's fields."""
    header = ThreadHeader.model_validate_json(values[THREAD_FIELD] or "{}")
    comments = {}
    fingerprints, bans = set(), set()
    for name, raw in values.items():
        if name.startswith(COMMENT_PREFIX) and raw:
            comment_id = name[len(COMMENT_PREFIX) :]
            comments[comment_id] = CommentState.model_validate(
                {**orjson.loads(raw), "id": comment_id}
            )
        elif name.startswith(FINGERPRINT_PREFIX) and raw:
            fingerprints.add(name[len(FINGERPRINT_PREFIX) :])
        elif name.startswith(BAN_PREFIX) and raw:
            bans.add(name[len(BAN_PREFIX) :])
    return ThreadState(
        version=int(values.get(VERSION_FIELD) or 0),
        head_hash=values.get(HEAD_FIELD) or GENESIS_HASH,
        started=header.started,
        title=header.title,
        url=header.url,
        locked=header.locked,
        first_comment_at=header.first_comment_at,
        comments=comments,
        fingerprints=frozenset(fingerprints),
        bans=frozenset(bans),
    )


def state_fields(
    state: ThreadState,
    comment_ids: Iterable[str] | None = None,
    fingerprints: Iterable[str] | None = None,
) -> list[str]:
    """Field/value pairs of the thread header, of the given comments and of the given
    fingerprints (all of either when None)."""
    header = ThreadHeader(
        started=state.started,
        title=state.title,
        url=state.url,
        locked=state.locked,
        first_comment_at=state.first_comment_at,
    )
    ids = state.comments if comment_ids is None else comment_ids
    pairs = [THREAD_FIELD, header.model_dump_json(exclude_defaults=True)]
    for comment_id in ids:
        comment = state.comments[comment_id]
        pairs += [
            comment_field(comment_id),
            comment.model_dump_json(exclude={"id"}, exclude_defaults=True),
        ]
    for fingerprint in state.fingerprints if fingerprints is None else fingerprints:
        pairs += [fingerprint_field(fingerprint), "1"]
    if fingerprints is None:
        for ban_id in state.bans:
            pairs += [f"{BAN_PREFIX}{ban_id}", "1"]
    return pairs


def changed_fields(before: ThreadState, after: ThreadState) -> list[str]:
    """Field/value pairs an append writes: the header, every comment that changed and every
    new fingerprint."""
    changed = [cid for cid, c in after.comments.items() if before.comments.get(cid) != c]
    pairs = state_fields(after, changed, after.fingerprints - before.fingerprints)
    for ban_id in after.bans - before.bans:
        pairs += [f"{BAN_PREFIX}{ban_id}", "1"]
    for ban_id in before.bans - after.bans:
        pairs += [f"{BAN_PREFIX}{ban_id}", ""]  # lifted (the append writes, never deletes)
    return pairs


def whole_state(state: ThreadState) -> dict[str, str | int]:
    """Every field of a thread's state hash, for writing it afresh (an import)."""
    pairs = state_fields(state)
    fields: dict[str, str | int] = {VERSION_FIELD: state.version, HEAD_FIELD: state.head_hash}
    fields.update(zip(pairs[::2], pairs[1::2], strict=True))
    return fields
