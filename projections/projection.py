"""What a projection is: a fold of log events into read-model writes, run by a projector."""

import logging
from typing import Protocol

from events.envelope import EventEnvelope
from storage.keys import ProjectionKeys
from storage.read_model_writes import WriteBatch

logger = logging.getLogger("commentstream.projector")


class Projection(Protocol):
    name: str
    # The event types this projection folds; None for every type. Others are passed over, known
    # by the type at the end of their stored JSON without parsing it (events/envelope.py,
    # stored_type), so an undecodable entry of such a type is left to the projections that fold
    # it; the checkpoint still moves past them.
    event_types: frozenset[str] | None

    async def plan(self, keys: ProjectionKeys, envelopes: list[EventEnvelope]) -> WriteBatch:
        """The writes that fold `envelopes` into the read model (may read the model first)."""


def dead_letter(batch: WriteBatch, keys: ProjectionKeys, entry_id: str, reason: str) -> None:
    """Park an event the projection cannot fold; it is written with the batch."""
    logger.error("%s: event %s parked: %s", keys.name, entry_id, reason)
    dead = keys.partition.dead_events(keys.name)
    batch.add("XADD", dead, "*", "entry_id", entry_id, "reason", reason)
