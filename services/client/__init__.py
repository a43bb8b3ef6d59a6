"""The typed async client for other services: send commands and get their outcomes, subscribe to
the events of every partition, on one Redis server or a Redis Cluster.

    client = await Client.connect("redis://localhost:6379", partitions=8)
    outcome = await client.post_comment("default", "post-42", "Hello", author={"name": "Ann"})
    async for delivery in client.events(group="search-indexer", start="beginning"):
        index(delivery.event)
        await delivery.ack()

A command is idempotent by its `command_id` (sent again, it gets its first outcome back); its
partition is computed here. An accepted command returns its Outcome; a rejected one raises
CommandRejected (its code, message and field); one not processed within the timeout raises
CommandQueued: it is queued and will be processed, ask again with the same id.

A subscription is a consumer group per subscribing service on every partition's log, created
at the position asked for (never silently at the end), with at-least-once delivery: an event
is delivered again until acknowledged. Entries a dead consumer left pending are claimed after
`claim_idle_ms`; one delivered `max_deliveries` times without an acknowledgement is parked in
the group's own dead-letter stream (`cs:{p.n}:subscriber:{group}:dead`); consumers idle past
`consumer_grace_ms` with nothing pending are removed from the group.
"""

from services.client.checkpoint import Checkpoint
from services.client.client import (
    Client,
    CommandQueued,
    CommandRejected,
    Delivery,
)

__all__ = ["Checkpoint", "Client", "CommandQueued", "CommandRejected", "Delivery"]
