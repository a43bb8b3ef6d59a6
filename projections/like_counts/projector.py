"""The like_counts projection: a count per comment and the set of who likes it."""

from events.envelope import EventEnvelope
from events.thread_events import CommentLiked, CommentUnliked
from projections.writes import WriteBatch
from services.storage.keys import ProjectionKeys


class LikeCountsProjection:
    name = "like_counts"

    async def plan(self, keys: ProjectionKeys, envelopes: list[EventEnvelope]) -> WriteBatch:
        batch = WriteBatch()
        for envelope in envelopes:
            fold(batch, keys, envelope)
        return batch


def fold(batch: WriteBatch, keys: ProjectionKeys, envelope: EventEnvelope) -> None:
    """The writes of one event; only likes and unlikes touch this model."""
    event = envelope.event()
    if not isinstance(event, CommentLiked | CommentUnliked):
        return
    counts = keys.like_counts(envelope.site, envelope.thread)
    likers = keys.likers(envelope.site, envelope.thread, event.comment_id)
    if isinstance(event, CommentLiked):
        batch.add("HINCRBY", counts, event.comment_id, 1)
        batch.add("ZADD", likers, int(envelope.occurred_at.timestamp() * 1000), envelope.actor.id)
    else:
        batch.add("HINCRBY", counts, event.comment_id, -1)
        batch.add("ZREM", likers, envelope.actor.id)
