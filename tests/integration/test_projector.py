"""Projectors as real processes: a new one builds from the start of an existing log, a poison
event is parked while the rest goes on, and a restart resumes from the checkpoint."""

import json
from pathlib import Path

from redis.asyncio import Redis

from events.actors import Actor
from events.commands import LikeComment, PostComment
from events.decider import DEFAULT_EDIT_WINDOW
from services.processor.command_handler import CommandHandler
from services.settings import Settings
from storage.event_store import EventStore
from storage.key_vault import AuthorKeyVault
from tests.conftest import TEST_PARTITIONS
from tests.processes import ServiceProcess, store_env, sync_client, wait_until


def env_of(settings: Settings) -> dict[str, str]:
    return {
        **store_env(settings.store),
        "COMMENTSTREAM_PARTITIONS": str(TEST_PARTITIONS),
        "COMMENTSTREAM_SECRET": settings.secret,
    }


async def test_a_new_projector_builds_from_the_start_and_parks_poison(
    redis: Redis, settings: Settings, logs_dir: Path, thread_id: str
) -> None:
    store = EventStore(redis, settings.partitions, 3600)
    handler = CommandHandler(store, AuthorKeyVault(redis, settings.secret), DEFAULT_EDIT_WINDOW)
    keys = store.keys_for("default", thread_id)
    first = await handler.handle(
        PostComment(thread=thread_id, actor=Actor(id="anon:a"), body="one")
    )
    poison = await redis.xadd(keys.events, {"event": "{this is not an envelope"})
    first_entry = (await redis.xrange(keys.events))[0][1]
    from_the_future = json.loads(first_entry["e"]) | {"v": 99, "th": thread_id + "-future"}
    future = await redis.xadd(keys.events, first_entry | {"e": json.dumps(from_the_future)})
    await handler.handle(PostComment(thread=thread_id, actor=Actor(id="anon:b"), body="two"))
    like = await handler.handle(
        LikeComment(thread=thread_id, actor=Actor(id="anon:b"), comment_id=first.comment_id or "")
    )
    assert like.position is not None

    client = sync_client(settings.store)
    processes = [
        ServiceProcess(["project", name], env_of(settings), logs_dir).start()
        for name in ("thread_view", "like_counts")
    ]
    try:
        for name in ("thread_view", "like_counts"):
            wait_until(
                lambda name=name: client.get(keys.projection(name, 0).checkpoint) == like.position,
                30,
                f"{name} to reach the end of the log",
            )
    finally:
        for process in processes:
            process.stop()
    meta = client.hgetall(keys.projection("thread_view", 0).meta("default", thread_id))
    assert meta["count"] == "2"
    assert (
        client.hget(
            keys.projection("like_counts", 0).like_counts("default", thread_id),
            first.comment_id or "",
        )
        == "1"
    )
    parked = client.xrange(keys.dead_events("thread_view"))
    assert [entry["entry_id"] for _, entry in parked] == [poison, future]
    assert "undecodable" in parked[0][1]["reason"]
    assert "newer than this code" in parked[1][1]["reason"]

    # A restart resumes after the checkpoint: nothing is counted twice.
    await handler.handle(PostComment(thread=thread_id, actor=Actor(id="anon:c"), body="three"))
    restarted = ServiceProcess(["project", "thread_view"], env_of(settings), logs_dir).start()
    try:
        wait_until(
            lambda: (
                client.hget(keys.projection("thread_view", 0).meta("default", thread_id), "count")
                == "3"
            ),
            30,
            "the restarted projector to see the new comment",
        )
    finally:
        restarted.stop()
    assert len(client.xrange(keys.dead_events("thread_view"))) == 2
    client.close()
