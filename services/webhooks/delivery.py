"""One delivery of one event to one endpoint: signed as Standard Webhooks say (`webhook-id`,
`webhook-timestamp`, `webhook-signature`, HMAC-SHA256 by the `standardwebhooks` package), with
a timeout and at most so many at once; a failure is tried again on the schedule (the same
`webhook-id` each time), parked after the last try, and an endpoint that keeps failing is
disabled (GET /api/v1/webhooks says so)."""

import asyncio
import logging
import time
from datetime import UTC, datetime

import httpx
from standardwebhooks.webhooks import Webhook

from services.webhook_targets import TargetRefused, check_target
from storage.webhook_store import Endpoint, Retry, WebhookStore

logger = logging.getLogger("commentstream.webhooks")


class Deliverer:
    def __init__(
        self,
        store: WebhookStore,
        schedule: list[float],
        disable_after: int,
        allow_private: bool,
        timeout_seconds: float,
        concurrency: int,
    ) -> None:
        self._store = store
        self._schedule = schedule  # the delay before each attempt: first, then each retry
        self._disable_after = disable_after
        self._allow_private = allow_private
        self._client = httpx.AsyncClient(timeout=timeout_seconds, follow_redirects=False)
        self._slots = asyncio.Semaphore(concurrency)
        self._in_flight: set[asyncio.Task[bool]] = set()

    async def deliver(
        self, endpoint: Endpoint, message_id: str, payload: str, attempt: int
    ) -> bool:
        """One attempt; True when the receiver took it (2xx)."""
        async with self._slots:
            status, error = await self._post(endpoint, message_id, payload)
        ok = status is not None and 200 <= status < 300
        await self._store.record(
            endpoint.id,
            {
                "message_id": message_id,
                "attempt": attempt,
                "status": status,
                "error": error,
                "at": time.time(),
            },
        )
        await self._count(endpoint.id, ok)
        if not ok:
            await self._retry_or_park(
                Retry(
                    endpoint_id=endpoint.id,
                    message_id=message_id,
                    payload=payload,
                    attempt=attempt + 1,
                ),
                error or f"HTTP {status}",
            )
        return ok

    async def _post(
        self, endpoint: Endpoint, message_id: str, payload: str
    ) -> tuple[int | None, str | None]:
        try:
            await check_target(endpoint.url, self._allow_private)  # again: DNS may have moved
            now = datetime.now(UTC)
            signature = Webhook(endpoint.secret).sign(message_id, now, payload)
            response = await self._client.post(
                endpoint.url,
                content=payload,
                headers={
                    "content-type": "application/json",
                    "webhook-id": message_id,
                    "webhook-timestamp": str(int(now.timestamp())),
                    "webhook-signature": signature,
                },
            )
        except TargetRefused as refused:
            return None, f"refused: {refused}"
        except httpx.HTTPError as error:
            return None, f"{type(error).__name__}: {error}"
        return response.status_code, None

    async def _count(self, endpoint_id: str, ok: bool) -> None:
        if ok:
            await self._store.succeeded(endpoint_id)
            return
        if await self._store.failed(endpoint_id) == self._disable_after:  # once, by one
            logger.warning(
                "webhook %s disabled after %d failures in a row", endpoint_id, self._disable_after
            )
            await self._store.disable(endpoint_id)

    async def _retry_or_park(self, retry: Retry, error: str) -> None:
        if retry.attempt > len(self._schedule):
            await self._store.park(retry, error)
            return
        await self._store.schedule(retry, time.time() + self._schedule[retry.attempt - 1])

    async def retry_due(self) -> int:
        """Deliver the retries that are due (each in a task of its own); how many."""
        due = await self._store.due(time.time())
        for retry in due:
            endpoint = await self._store.get(retry.endpoint_id)
            if endpoint is None or endpoint.disabled:
                await self._store.park(retry, "endpoint deleted or disabled")
                continue
            self.start(endpoint, retry.message_id, retry.payload, retry.attempt)
        return len(due)

    def start(self, endpoint: Endpoint, message_id: str, payload: str, attempt: int) -> None:
        """`deliver` in a task of its own: a slow receiver holds up no other."""
        task = asyncio.create_task(self.deliver(endpoint, message_id, payload, attempt))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def drain(self) -> None:
        """Wait for the deliveries in flight."""
        while self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)

    async def aclose(self) -> None:
        for task in self._in_flight:
            task.cancel()
        await asyncio.gather(*self._in_flight, return_exceptions=True)
        await self._client.aclose()
