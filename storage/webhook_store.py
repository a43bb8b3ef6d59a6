"""Webhook endpoints of the sites, their retries and their last deliveries, in Redis (the keys
of storage/keys.py; one key per command, so the same on a cluster)."""

import base64
import json
import secrets
import time
from typing import Any

from pydantic import BaseModel

from storage.connection import Store
from storage.keys import (
    WEBHOOK_DEAD,
    WEBHOOK_FAILURES,
    WEBHOOK_RETRIES,
    WEBHOOKS,
    webhook_deliveries,
)

KEPT_DELIVERIES = 100


class Endpoint(BaseModel):
    id: str
    site: str
    url: str
    events: list[str] | None = None  # event types; None: every one
    secret: str  # `whsec_` + base64 of 24 random bytes, as Standard Webhooks has it
    created_at: float
    disabled: bool = False
    failures_in_a_row: int = 0

    def wants(self, event_type: str) -> bool:
        return not self.disabled and (self.events is None or event_type in self.events)

    def public(self) -> dict[str, Any]:
        """What the owner is shown again: all but the secret."""
        return self.model_dump(exclude={"secret"})


class Retry(BaseModel):
    endpoint_id: str
    message_id: str
    payload: str
    attempt: int  # the attempt this retry will be


class WebhookStore:
    def __init__(self, redis: Store) -> None:
        self._redis = redis

    async def register(self, site: str, url: str, events: list[str] | None) -> Endpoint:
        endpoint = Endpoint(
            id=f"ep_{secrets.token_hex(8)}",
            site=site,
            url=url,
            events=events,
            secret="whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
            created_at=time.time(),
        )
        await self.save(endpoint)
        return endpoint

    async def save(self, endpoint: Endpoint) -> None:
        stored = endpoint.model_dump_json(exclude={"failures_in_a_row"})  # counted apart
        await self._redis.hset(WEBHOOKS, endpoint.id, stored)

    async def all(self) -> list[Endpoint]:
        found = await self._redis.hgetall(WEBHOOKS)
        failures = await self._redis.hgetall(WEBHOOK_FAILURES)
        return sorted(
            (
                Endpoint.model_validate_json(raw).model_copy(
                    update={"failures_in_a_row": int(failures.get(endpoint_id, 0))}
                )
                for endpoint_id, raw in found.items()
            ),
            key=lambda endpoint: endpoint.created_at,
        )

    async def get(self, endpoint_id: str) -> Endpoint | None:
        raw = await self._redis.hget(WEBHOOKS, endpoint_id)
        return Endpoint.model_validate_json(raw) if raw else None

    async def delete(self, endpoint_id: str) -> bool:
        deleted = bool(await self._redis.hdel(WEBHOOKS, endpoint_id))
        await self._redis.hdel(WEBHOOK_FAILURES, endpoint_id)
        await self._redis.delete(webhook_deliveries(endpoint_id))
        return deleted

    async def failed(self, endpoint_id: str) -> int:
        """One more failed attempt in a row; how many now."""
        return int(await self._redis.hincrby(WEBHOOK_FAILURES, endpoint_id, 1))

    async def succeeded(self, endpoint_id: str) -> None:
        await self._redis.hdel(WEBHOOK_FAILURES, endpoint_id)

    async def disable(self, endpoint_id: str) -> None:
        endpoint = await self.get(endpoint_id)
        if endpoint is not None and not endpoint.disabled:
            await self.save(endpoint.model_copy(update={"disabled": True}))

    async def record(self, endpoint_id: str, delivery: dict[str, Any]) -> None:
        await self._redis.xadd(
            webhook_deliveries(endpoint_id),
            {"delivery": json.dumps(delivery)},
            maxlen=KEPT_DELIVERIES,
            approximate=True,
        )

    async def last_deliveries(self, endpoint_id: str, count: int = 20) -> list[dict[str, Any]]:
        entries = await self._redis.xrevrange(webhook_deliveries(endpoint_id), count=count)
        return [json.loads(fields["delivery"]) for _, fields in entries]

    async def schedule(self, retry: Retry, at: float) -> None:
        await self._redis.zadd(WEBHOOK_RETRIES, {retry.model_dump_json(): at})

    async def due(self, now: float, count: int = 100) -> list[Retry]:
        """Retries due by `now`, taken off the schedule (the one taking them delivers them)."""
        members = await self._redis.zrangebyscore(WEBHOOK_RETRIES, 0, now, start=0, num=count)
        taken = []
        for member in members:
            if await self._redis.zrem(WEBHOOK_RETRIES, member):  # not taken by another
                taken.append(Retry.model_validate_json(member))
        return taken

    async def park(self, retry: Retry, error: str) -> None:
        await self._redis.xadd(
            WEBHOOK_DEAD,
            {
                "endpoint": retry.endpoint_id,
                "message_id": retry.message_id,
                "error": error,
                "payload": retry.payload,
            },
        )
