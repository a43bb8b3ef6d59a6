"""An event as it may leave the system (webhooks): who did what where and when, without the
sealed personal data (names, emails, bodies) and without the moderation fingerprints."""

from typing import Any

from events.envelope import EventEnvelope, format_timestamp

PRIVATE_FIELDS = {"personal", "fingerprint"}


def public_event(envelope: EventEnvelope) -> dict[str, Any]:
    event = envelope.event()
    data = {k: v for k, v in event.model_dump(mode="json").items() if k not in PRIVATE_FIELDS}
    return {
        "type": event.type,
        "site": envelope.site,
        "thread": envelope.thread,
        "position": envelope.position,
        "at": format_timestamp(envelope.occurred_at),
        "actor": {"id": envelope.actor.id, "kind": envelope.actor.kind},
        "data": data,
    }
