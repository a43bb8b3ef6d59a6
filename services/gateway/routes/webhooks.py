"""A site's webhook endpoints (admin): register one (its signing secret is shown once), list
them with their state and last deliveries, delete one. The delivery service is
services/webhooks."""

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from events.identifiers import SITE_ID_PATTERN
from events.thread_events import EVENT_CLASSES
from services.gateway.errors import ApiError
from services.gateway.routes.admin import Admin
from services.gateway.routes.dependencies import SiteParam
from services.gateway.schemas import ERROR_RESPONSES
from services.webhook_targets import TargetRefused, check_target
from storage.webhook_store import WebhookStore

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)
EndpointId = Annotated[str, Path(pattern=r"^ep_[0-9a-f]{16}$")]


class NewEndpoint(BaseModel):
    site: Annotated[str, Field(pattern=SITE_ID_PATTERN)] = "default"
    url: Annotated[str, Field(max_length=2000)]
    events: list[str] | None = None  # event types (docs/schemas/events/); None: every one


@router.post("", status_code=201)
async def register(gateway: Admin, body: NewEndpoint) -> dict[str, Any]:
    """A new endpoint for the site's events; the answer holds its secret (`whsec_…`), which
    signs every delivery and is not shown again."""
    unknown = sorted(set(body.events or []) - set(EVENT_CLASSES))
    if unknown:
        raise ApiError(422, "invalid_field", f"unknown event types: {unknown}", "events")
    try:
        await check_target(body.url, gateway.settings.webhooks_allow_private)
    except TargetRefused as refused:
        raise ApiError(422, "invalid_field", str(refused), "url") from refused
    endpoint = await WebhookStore(gateway.redis).register(body.site, body.url, body.events)
    return endpoint.public() | {"secret": endpoint.secret}


@router.get("")
async def endpoints(gateway: Admin, site: SiteParam = "default") -> dict[str, Any]:
    """The site's endpoints: url, events, whether disabled and why, the last deliveries."""
    store = WebhookStore(gateway.redis)
    found = [e for e in await store.all() if e.site == site]
    return {
        "endpoints": [
            e.public() | {"last_deliveries": await store.last_deliveries(e.id)} for e in found
        ]
    }


@router.delete("/{endpoint_id}")
async def delete(gateway: Admin, endpoint_id: EndpointId) -> dict[str, Any]:
    if not await WebhookStore(gateway.redis).delete(endpoint_id):
        raise ApiError(404, "webhook_not_found", "no such webhook endpoint")
    return {"deleted": endpoint_id}
