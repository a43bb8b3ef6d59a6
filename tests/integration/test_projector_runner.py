"""The runner never passes over an event: a batch whose fold failed (for a reason other than an
unavailable store) is folded again from the log before the next batch, although the subscriber
that delivered it never delivers it again. The moderation projector reads a busy log at its
pace, the others as events come."""

import asyncio
import contextlib
import math
import time
from collections.abc import Sequence

import pytest
from redis.asyncio import Redis

from events.actors import Actor
from events.commands import LikeComment, PostComment
from events.decider import DEFAULT_EDIT_WINDOW
from events.envelope import EventEnvelope
from events.log_entry import EntryFields
from projections.like_counts.projector import LikeCountsProjection
from projections.names import MODERATION, THREAD_VIEW
from projections.registry import PROJECTIONS
from services.processor.command_handler import CommandHandler
from services.projector.app import follow_the_log
from services.projector.runner import ProjectorRunner
from services.settings import Settings
from storage.event_store import EventStore
from storage.key_vault import AuthorKeyVault
from storage.keys import PartitionKeys, ProjectionKeys
from storage.log_follower import LogFollower
from storage.read_model_writes import WriteBatch
from tests.integration.world import World


@pytest.fixture
def world(redis: Redis, settings: Settings) -> World:
    return World(redis, settings)


class FailsOnce(LikeCountsProjection):
    """like_counts, whose first plan fails as a bug or a refused command would."""

    failed = False

    async def plan(self, keys: ProjectionKeys, envelopes: list[EventEnvelope]) -> WriteBatch:
        if not self.failed:
            self.failed = True
            raise RuntimeError("a fold that fails once")
        return await super().plan(keys, envelopes)


async def test_a_failed_batch_is_folded_again_before_the_next(
    world: World, redis: Redis, thread_id: str
) -> None:
    posted = await world.do(PostComment(thread=thread_id, actor=Actor(id="anon:a"), body="hi"))
    comment = posted.comment_id or ""
    for n in range(3):
        await world.do(
            LikeComment(thread=thread_id, actor=Actor(id=f"anon:{n}"), comment_id=comment)
        )
    keys = world.store.keys_for("default", thread_id)
    entries = await redis.xrange(keys.events)
    runner = ProjectorRunner(redis, FailsOnce(), 1)
    with pytest.raises(RuntimeError):
        await runner.process(keys, entries[:3])  # the post and the first like
    await runner.process(keys, entries[3:])  # what the subscriber delivers next
    counts = keys.projection("like_counts", 1).like_counts("default", thread_id)
    assert await redis.hget(counts, comment) == "3"
    assert await redis.get(keys.projection("like_counts", 1).checkpoint) == entries[-1][0]


class CountingRunner(ProjectorRunner):
    """A runner that counts the reads it is handed that had entries, and the entries (a read
    that found nothing is no work: on a cluster, each partition's read in flight comes back
    empty on its own when its block time ends)."""

    reads = 0
    entries = 0
    seconds = 0.0

    async def process_together(
        self, batches: Sequence[tuple[PartitionKeys, Sequence[tuple[str, EntryFields]]]]
    ) -> None:
        self.reads += bool(batches)
        self.entries += sum(len(entries) for _, entries in batches)
        await super().process_together(batches)


async def reads_while_posting(
    redis: Redis, settings: Settings, thread_id: str, projection: str, posts: int
) -> CountingRunner:
    """Follow the log from its end with `projection`'s pace (into a fresh generation) while
    `posts` comments come 0.1 s apart; the runner once every post is folded."""
    store = EventStore(redis, settings.partitions, 3600)
    handler = CommandHandler(store, AuthorKeyVault(redis, settings.secret), DEFAULT_EDIT_WINDOW)
    ends = {}
    for p in range(settings.partitions):
        last = await redis.xrevrange(PartitionKeys(p).events, count=1)
        ends[p] = last[0][0] if last else None
    runner = CountingRunner(redis, PROJECTIONS[projection](redis, AuthorKeyVault(redis, "x")), 7)
    follower = LogFollower(redis, ends, settings.batch_size, block_ms=100)
    following = asyncio.create_task(follow_the_log(runner, follower, settings))
    started = time.monotonic()
    try:
        for n in range(posts):
            await handler.handle(
                PostComment(thread=thread_id, actor=Actor(id=f"anon:{n}"), body=f"comment {n}")
            )
            await asyncio.sleep(0.1)
        written = 0  # the posts' events (a thread's first post also opens it)
        for p, end in ends.items():
            written += len(await redis.xrange(PartitionKeys(p).events, f"({end}" if end else "-"))
        for _ in range(100):
            if runner.entries >= written:
                break
            await asyncio.sleep(0.05)
    finally:
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
    assert runner.entries == written > posts
    runner.seconds = time.monotonic() - started
    return runner


async def test_the_moderation_projector_reads_a_busy_log_at_its_pace(
    redis: Redis, settings: Settings, thread_id: str
) -> None:
    paced = settings.model_copy(update={"moderation_pace_ms": 400.0})
    moderation = await reads_while_posting(redis, paced, thread_id + "-m", MODERATION, 12)
    # 12 posts over about 1.2 s (longer where appends are slower), read at most every 0.4 s.
    assert moderation.reads <= math.ceil(moderation.seconds / 0.4) + 1
    assert moderation.reads <= 12 / 2  # several posts per read
    # The thread view has no pace: it reads each post as it comes.
    thread_view = await reads_while_posting(redis, paced, thread_id + "-t", THREAD_VIEW, 12)
    assert thread_view.reads >= 10
