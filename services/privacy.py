"""A person's data: erase it (crypto-shredding) or hand it over (export).

An author's threads come from the index the append keeps (`cs:{p}:actor:{id}:threads`), so
neither reads the whole log: both are fit for an HTTP request as well as for the CLI.
"""

import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from redis.exceptions import ResponseError

from events.actors import Actor
from events.commands import Command, EraseAuthor
from events.envelope import EventEnvelope
from events.outcomes import Outcome
from events.thread_events import CommentEdited, CommentPosted
from projections.audit_trail import told
from storage.connection import rewrite_append_only_files
from storage.event_store import EventStore
from storage.key_vault import AuthorKeyVault
from storage.unsealing import personal_data

Apply = Callable[[Command], Awaitable[Outcome | None]]


async def erase_author(
    store: EventStore, vault: AuthorKeyVault, actor_id: str, operator: Actor, apply: Apply
) -> dict[str, Any]:
    """Delete the author's key, then mark each of their threads so read models redact them."""
    threads = await store.actor_threads(actor_id)
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
    parked = await _drop_dead_letters(store, actor_id)
    with contextlib.suppress(ResponseError):  # a rewrite already running will do
        # so the append-only files forget the plaintext too
        await rewrite_append_only_files(store.redis)
    return {
        "identity": actor_id,
        "key_deleted": key_deleted,
        "threads": outcomes,
        "dead_letters_dropped": parked,
    }


async def _drop_dead_letters(store: EventStore, actor_id: str) -> int:
    """Parked commands keep their plaintext: drop the author's."""
    needle = json.dumps(actor_id)[1:-1]
    dropped = 0
    for keys in store.all_partitions():
        for entry_id, fields in await store.redis.xrange(keys.dead_commands):
            if any(needle in value for value in fields.values()):
                dropped += await store.redis.xdel(keys.dead_commands, entry_id)
    return dropped


async def actor_events(store: EventStore, actor_id: str) -> list[EventEnvelope]:
    """Everything one identity did, oldest first: the events of their threads that are theirs."""
    found = [
        envelope
        for site, thread in await store.actor_threads(actor_id)
        for envelope in await store.thread_history(site, thread)
        if envelope.actor.id == actor_id
    ]
    return sorted(found, key=lambda e: e.occurred_at)


async def export_author(store: EventStore, vault: AuthorKeyVault, actor_id: str) -> dict[str, Any]:
    """Everything held about one identity: their comments in every version, and what they did."""
    done = await actor_events(store, actor_id)
    comments: dict[str, dict[str, Any]] = {}
    for envelope in done:
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
        "activity": [(await told(vault, e)).model_dump(mode="json") for e in done],
    }
