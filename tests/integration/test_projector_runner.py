"""The runner never passes over an event: a batch whose fold failed (for a reason other than an
unavailable store) is folded again from the log before the next batch, although the subscriber
that delivered it never delivers it again."""

import pytest
from redis.asyncio import Redis

from events.actors import Actor
from events.commands import LikeComment, PostComment
from events.envelope import EventEnvelope
from projections.like_counts.projector import LikeCountsProjection
from services.projector.runner import ProjectorRunner
from services.settings import Settings
from storage.keys import ProjectionKeys
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
