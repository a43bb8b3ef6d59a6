"""The like_counts projection: a count per comment and the set of who likes it.

A batch is folded into its net effect first (one HINCRBY per comment, one ZADD and one ZREM per
comment's likers), so a batch of a thousand likes writes a few commands, not two thousand.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from events.envelope import EventEnvelope
from events.thread_events import CommentLiked, CommentUnliked
from projections.names import LIKE_COUNTS
from storage.keys import ProjectionKeys
from storage.read_model_writes import WriteBatch


@dataclass
class LikeChanges:
    """The net effect of a batch: count deltas per comment, and per likers set the last word
    on each member (its score when it likes, None when it no longer does)."""

    deltas: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    likers: dict[str, dict[str, int | None]] = field(default_factory=lambda: defaultdict(dict))

    def like(self, counts: str, likers: str, comment_id: str, actor: str, score: int) -> None:
        self._count(counts, comment_id, 1)
        self.likers[likers][actor] = score

    def unlike(self, counts: str, likers: str, comment_id: str, actor: str) -> None:
        self._count(counts, comment_id, -1)
        self.likers[likers][actor] = None

    def _count(self, counts: str, comment_id: str, delta: int) -> None:
        per_comment = self.deltas[counts]
        per_comment[comment_id] = per_comment.get(comment_id, 0) + delta

    def writes(self) -> WriteBatch:
        batch = WriteBatch()
        for counts, per_comment in self.deltas.items():
            for comment_id, delta in per_comment.items():
                # Even by 0: a like and its unlike in two batches leave the count at "0", so
                # the same two in one batch must too (live and replayed models are equal).
                batch.add("HINCRBY", counts, comment_id, delta)
        for likers, members in self.likers.items():
            added = [p for m, s in members.items() if s is not None for p in (s, m)]
            removed = [m for m, s in members.items() if s is None]
            if added:
                batch.add("ZADD", likers, *added)
            if removed:
                batch.add("ZREM", likers, *removed)
        return batch


class LikeCountsProjection:
    name = LIKE_COUNTS
    event_types: frozenset[str] | None = frozenset({"CommentLiked", "CommentUnliked"})

    async def plan(self, keys: ProjectionKeys, envelopes: list[EventEnvelope]) -> WriteBatch:
        changes = LikeChanges()
        for envelope in envelopes:
            fold(changes, keys, envelope)
        return changes.writes()


def fold(changes: LikeChanges, keys: ProjectionKeys, envelope: EventEnvelope) -> None:
    """One event's change; only likes and unlikes touch this model."""
    event = envelope.event()
    if not isinstance(event, CommentLiked | CommentUnliked):
        return
    counts = keys.like_counts(envelope.site, envelope.thread)
    likers = keys.likers(envelope.site, envelope.thread, event.comment_id)
    if isinstance(event, CommentLiked):
        score = int(envelope.occurred_at.timestamp() * 1000)
        changes.like(counts, likers, event.comment_id, envelope.actor.id, score)
    else:
        changes.unlike(counts, likers, event.comment_id, envelope.actor.id)
