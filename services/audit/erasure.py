"""A person's data: erase it (crypto-shredding) or hand it over (export), from the log alone."""

import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from events.actors import Actor
from events.commands import Command, EraseAuthor
from events.outcomes import Outcome
from events.thread_events import CommentEdited, CommentPosted
from projections.thread_view.projector import personal_data
from services.audit.history import describe, search_log
from services.storage.key_vault import AuthorKeyVault
from services.storage.keys import PartitionKeys

Apply = Callable[[Command], Awaitable[Outcome | None]]


def _needle(actor_id: str) -> str:
    return f'"actor":{{"id":"{actor_id}"'


async def erase_author(
    redis: Redis,
    vault: AuthorKeyVault,
    partitions: int,
    actor_id: str,
    operator: Actor,
    apply: Apply,
    progress: Callable[[int], None],
) -> dict[str, Any]:
    """Delete the author's key, then mark each of their threads so read models redact them."""
    written = await search_log(redis, partitions, _needle(actor_id), progress)
    threads = sorted({(e.site, e.thread) for e in written if e.type == "CommentPosted"})
    key_deleted = await vault.erase(actor_id)
    outcomes = []
    for site, thread in threads:
        command = EraseAuthor(
            command_id=f"erase-{actor_id}-{site}-{thread}".replace("/", "-")[:128],
            site=site,
            thread=thread,
            actor=operator,
            author_id=actor_id,
        )
        outcome = await apply(command)
        outcomes.append({"site": site, "thread": thread, "outcome": outcome and outcome.status})
    parked = await _drop_dead_letters(redis, partitions, actor_id)
    with contextlib.suppress(ResponseError):  # a rewrite already running will do
        await redis.bgrewriteaof()  # so the append-only file forgets the plaintext too
    return {
        "identity": actor_id,
        "key_deleted": key_deleted,
        "threads": outcomes,
        "dead_letters_dropped": parked,
    }


async def _drop_dead_letters(redis: Redis, partitions: int, actor_id: str) -> int:
    """Parked commands keep their plaintext: drop the author's."""
    needle = json.dumps(actor_id)[1:-1]
    dropped = 0
    for p in range(partitions):
        stream = PartitionKeys(p).dead_commands
        for entry_id, fields in await redis.xrange(stream):
            if any(needle in value for value in fields.values()):
                dropped += await redis.xdel(stream, entry_id)
    return dropped


async def export_author(
    redis: Redis,
    vault: AuthorKeyVault,
    partitions: int,
    actor_id: str,
    progress: Callable[[int], None],
) -> dict[str, Any]:
    """Everything held about one identity: their comments in every version, and what they did."""
    written = await search_log(redis, partitions, _needle(actor_id), progress)
    comments: dict[str, dict[str, Any]] = {}
    for envelope in sorted(written, key=lambda e: e.occurred_at):
        event = envelope.event()
        if not isinstance(event, CommentPosted | CommentEdited):
            continue
        personal = await personal_data(vault, envelope)
        entry = comments.setdefault(
            event.comment_id,
            {
                "site": envelope.site,
                "thread": envelope.thread,
                "comment_id": event.comment_id,
                "versions": [],
            },
        )
        version: dict[str, Any] = {
            "at": envelope.occurred_at.isoformat(),
            "erased": personal is None,
        }
        if personal is not None:
            version |= personal.model_dump(exclude_none=True)
        entry["versions"].append(version)
    return {
        "identity": actor_id,
        "key_held": await vault.key_for_reading(actor_id) is not None,
        "comments": list(comments.values()),
        "activity": [
            line.model_dump(mode="json") for line in [await describe(vault, e) for e in written]
        ],
    }
