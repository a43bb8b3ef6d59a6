"""Event store conformance, against a real server: atomic append, idempotency, hash chain."""

import asyncio
import json

import pytest
from redis.asyncio import Redis

from events.actors import Actor
from events.commands import LikeComment, PostComment
from events.decider import DEFAULT_EDIT_WINDOW, ThreadState, comments_needed
from events.envelope import GENESIS_HASH
from events.log_entry import broken_link
from events.outcomes import Outcome
from events.personal import Sealed, sealing_context, unseal
from events.thread_events import CommentPosted
from services.processor.command_handler import CommandHandler
from services.settings import Settings
from storage.event_store import EventStore, Replication
from storage.key_vault import AuthorKeyVault


@pytest.fixture
def event_store(redis: Redis, settings: Settings) -> EventStore:
    return EventStore(redis, settings.partitions, settings.outcome_ttl_seconds)


@pytest.fixture
def handler(event_store: EventStore, redis: Redis, settings: Settings) -> CommandHandler:
    return CommandHandler(event_store, AuthorKeyVault(redis, settings.secret), DEFAULT_EDIT_WINDOW)


def post(thread: str, n: int, **extra) -> PostComment:  # type: ignore[no-untyped-def]
    return PostComment(thread=thread, actor=Actor(id=f"anon:{n}"), body=f"comment {n}", **extra)


async def test_concurrent_appends_give_contiguous_versions_and_lose_nothing(
    event_store: EventStore, handler: CommandHandler, thread_id: str
) -> None:
    outcomes = await asyncio.gather(*(handler.handle(post(thread_id, n)) for n in range(20)))
    assert all(o.status == "accepted" for o in outcomes)
    history = await event_store.thread_history("default", thread_id)
    assert [e.thread_version for e in history] == list(range(1, 22))
    posted = {e.data["comment_id"] for e in history if e.type == "CommentPosted"}
    assert posted == {o.comment_id for o in outcomes} and len(posted) == 20
    assert [e.type for e in history].count("ThreadStarted") == 1


async def test_a_repeated_command_id_appends_once_and_returns_the_first_outcome(
    event_store: EventStore, handler: CommandHandler, thread_id: str
) -> None:
    command = post(thread_id, 1, command_id="same-command")
    outcomes = await asyncio.gather(*(handler.handle(command) for _ in range(5)))
    assert len({o.model_dump_json() for o in outcomes}) == 1
    again = await handler.handle(command)
    assert again == outcomes[0]
    history = await event_store.thread_history("default", thread_id)
    assert [e.type for e in history] == ["ThreadStarted", "CommentPosted"]


async def test_the_outcome_record_leaves_out_the_command_id_its_key_names(
    event_store: EventStore, handler: CommandHandler, redis: Redis, thread_id: str
) -> None:
    command = post(thread_id, 1, command_id=f"compact-{thread_id}")
    first = await handler.handle(command)
    keys = event_store.keys_for("default", thread_id)
    record = json.loads(await redis.get(keys.outcome(command.command_id)))
    assert "command_id" not in record and record["position"] == first.position
    assert await event_store.find_outcome(command.command_id) == first
    # A repeat answers the whole first outcome, on the outcome stream too.
    assert await handler.handle(command) == first
    streamed = [json.loads(f["outcome"]) for _, f in await redis.xrange(keys.outcomes)]
    mine = [o for o in streamed if o["command_id"] == command.command_id]
    assert len(mine) == 2 and mine[0] == mine[1] == first.model_dump(exclude_none=True)


async def test_a_rejection_is_remembered_for_the_same_command_id(
    handler: CommandHandler, thread_id: str
) -> None:
    like = LikeComment(thread=thread_id, actor=Actor(id="anon:x"), comment_id="missing")
    first = await handler.handle(like)
    assert first.status == "rejected" and first.code == "comment_not_found"
    assert await handler.handle(like) == first


async def test_the_hash_chain_links_every_event_of_a_thread(
    event_store: EventStore, handler: CommandHandler, thread_id: str
) -> None:
    for n in range(5):
        await handler.handle(post(thread_id, n))
    keys = event_store.keys_for("default", thread_id)
    previous = (0, GENESIS_HASH)
    for envelope in await event_store.thread_history("default", thread_id):
        [(_, fields)] = await event_store.redis.xrange(
            keys.events, envelope.position, envelope.position
        )
        assert broken_link(fields, *previous) is None
        previous = (envelope.thread_version, envelope.hash)


async def test_the_partition_log_holds_the_same_envelopes_as_the_thread_history(
    event_store: EventStore, handler: CommandHandler, redis: Redis, thread_id: str
) -> None:
    await handler.handle(post(thread_id, 1))
    keys = event_store.keys_for("default", thread_id)
    log = await event_store.read_log(keys)
    history = await event_store.thread_history("default", thread_id)
    assert [e.event_id for e in log] == [e.event_id for e in history]
    assert [e.position for e in log] == [e.position for e in history]
    raw = await redis.xrange(keys.events)
    assert json.loads(raw[0][1]["e"])["th"] == thread_id


async def test_personal_data_is_sealed_in_the_log(
    event_store: EventStore, handler: CommandHandler, redis: Redis, thread_id: str
) -> None:
    command = PostComment(
        thread=thread_id,
        actor=Actor(id="anon:p"),
        body="a very private body",
        author={"name": "Private Name", "email": "p@example.org"},  # type: ignore[arg-type]
    )
    await handler.handle(command)
    raw = json.dumps(await redis.xrange(event_store.keys_for("default", thread_id).events))
    for secret in ("very private", "Private Name", "p@example.org"):
        assert secret not in raw
    assert await redis.exists("cs:vault:anon:p")


async def test_a_command_touches_only_keys_of_its_partition(
    event_store: EventStore, handler: CommandHandler, redis: Redis, thread_id: str
) -> None:
    await handler.handle(post(thread_id, 1))
    tag = event_store.keys_for("default", thread_id).tag
    keys = [key async for key in redis.scan_iter("cs:*")]
    partition_keys = [key for key in keys if not key.startswith("cs:vault:")]
    assert partition_keys and all(key.startswith(tag + ":") for key in partition_keys)


async def test_a_rejection_decided_on_a_stale_state_is_not_recorded(
    event_store: EventStore, handler: CommandHandler, thread_id: str
) -> None:
    await handler.handle(post(thread_id, 1))
    stale = ThreadState()  # version 0, while the thread is at version 2
    rejection = Outcome(command_id="stale-1", status="rejected", code="comment_not_found")
    result = await event_store.append(
        site="default",
        thread=thread_id,
        envelopes=[],
        state=stale,
        new_state=stale,
        outcome=rejection,
    )
    assert result.status == "conflict"
    assert await event_store.find_outcome("stale-1") is None


async def test_the_state_is_kept_per_comment_and_a_command_reads_only_what_it_needs(
    event_store: EventStore, handler: CommandHandler, redis: Redis, thread_id: str
) -> None:
    first = await handler.handle(post(thread_id, 1))
    second = await handler.handle(post(thread_id, 2))
    key = event_store.keys_for("default", thread_id).thread_state("default", thread_id)
    fields = await redis.hgetall(key)
    assert {f"c:{first.comment_id}", f"c:{second.comment_id}", "thread"} <= set(fields)
    assert "state" not in fields
    like = LikeComment(thread=thread_id, actor=Actor(id="anon:3"), comment_id=first.comment_id)
    partial = await event_store.load_state("default", thread_id, comments_needed(like))
    assert set(partial.comments) == {first.comment_id} and partial.version == 3
    assert partial.started
    full = await event_store.load_state("default", thread_id, None)
    assert set(full.comments) == {first.comment_id, second.comment_id}


async def test_author_keys_fetched_with_a_batch_are_held_for_reading(
    redis: Redis, settings: Settings
) -> None:
    writer = AuthorKeyVault(redis, settings.secret)
    keys = {actor: await writer.key_for_writing(actor) for actor in ("anon:k1", "anon:k2")}
    reader = AuthorKeyVault(redis, settings.secret)
    await reader.key_for_reading("anon:k1")
    wanted = reader.uncached(["anon:k1", "anon:k2", "anon:never"])
    assert wanted == ["anon:k2", "anon:never"]
    # (one GET a key, as a projector's batch reads them: authors' keys are in different slots)
    reader.remember_wrapped(wanted, [await redis.get(f"cs:vault:{a}") for a in wanted])
    # Held, not read again: gone from Redis, the reader still has them.
    await redis.delete("cs:vault:anon:k1", "cs:vault:anon:k2")
    assert await reader.key_for_reading("anon:k1") == keys["anon:k1"]
    assert await reader.key_for_reading("anon:k2") == keys["anon:k2"]
    assert await reader.key_for_reading("anon:never") is None
    assert reader.uncached(["anon:k1", "anon:k2", "anon:never"]) == ["anon:never"]


async def test_a_post_is_sealed_with_the_key_its_author_already_had(
    event_store: EventStore,
    handler: CommandHandler,
    redis: Redis,
    settings: Settings,
    thread_id: str,
) -> None:
    # The processor asks for the author's key with its state read (SET NX GET): a key made
    # elsewhere first is the one it must use, not the fresh one it offered.
    key = await AuthorKeyVault(redis, settings.secret).key_for_writing("anon:first")
    outcome = await handler.handle(
        PostComment(thread=thread_id, actor=Actor(id="anon:first"), body="sealed once")
    )
    assert outcome.status == "accepted" and outcome.comment_id
    posted = [
        envelope.event()
        for envelope in await event_store.thread_history("default", thread_id)
        if envelope.type == "CommentPosted"
    ]
    assert isinstance(posted[0], CommentPosted) and isinstance(posted[0].personal, Sealed)
    context = sealing_context("default", thread_id, outcome.comment_id)
    assert unseal(posted[0].personal, key, context).body == "sealed once"


async def test_the_append_indexes_the_threads_each_actor_has_events_in(
    event_store: EventStore, handler: CommandHandler, thread_id: str
) -> None:
    first = await handler.handle(post(thread_id, 1))
    await handler.handle(post(f"{thread_id}-other", 1))
    liker = Actor(id="anon:liker")
    await handler.handle(
        LikeComment(thread=thread_id, actor=liker, comment_id=first.comment_id or "")
    )
    refused = await handler.handle(
        LikeComment(thread=f"{thread_id}-x", actor=liker, comment_id="c")
    )
    assert refused.status == "rejected"  # nothing appended: nothing indexed
    assert await event_store.actor_threads("anon:1") == [
        ("default", thread_id),
        ("default", f"{thread_id}-other"),
    ]
    assert await event_store.actor_threads(liker.id) == [("default", thread_id)]
    assert await event_store.actor_threads("anon:nobody") == []


async def test_with_ack_replicas_an_outcome_is_published_only_once_a_replica_has_it(
    redis: Redis, settings: Settings, thread_id: str, topology: str
) -> None:
    """COMMENTSTREAM_ACK_REPLICAS=1: on the cluster (a replica per master) the append is
    answered on the outcome stream as usual; on one server (no replica) it is appended, its
    outcome record kept, but nothing is published, so a writer waiting for it answers 202."""
    store = EventStore(
        redis, settings.partitions, settings.outcome_ttl_seconds, Replication(1, 200)
    )
    handler = CommandHandler(store, AuthorKeyVault(redis, settings.secret), DEFAULT_EDIT_WINDOW)
    outcome = await handler.handle(post(thread_id, 1, command_id="replicated-1"))
    assert outcome.status == "accepted"
    keys = store.keys_for("default", thread_id)
    published = [json.loads(f["outcome"]) for _, f in await redis.xrange(keys.outcomes)]
    if topology == "cluster":
        assert [o["command_id"] for o in published] == ["replicated-1"]
    else:
        assert published == []
    assert await redis.exists(keys.outcome("replicated-1")) == 1
    assert [e.type for e in await store.thread_history("default", thread_id)] == [
        "ThreadStarted",
        "CommentPosted",
    ]
