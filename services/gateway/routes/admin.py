"""Operator endpoints: a person's data, handed over or erased. Need COMMENTSTREAM_ADMIN_KEY."""

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path

from events.identifiers import ACTOR_ID_PATTERN
from services.gateway.context import Gateway
from services.gateway.errors import ApiError
from services.gateway.routes.dependencies import ADMIN, GatewayDep
from services.gateway.schemas import ERROR_RESPONSES
from services.privacy import erase_author, export_author

router = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=ERROR_RESPONSES)


def admin(gateway: GatewayDep, authorization: Annotated[str | None, Header()] = None) -> Gateway:
    expected = gateway.settings.admin_key
    if not expected:
        raise ApiError(404, "admin_disabled", "set COMMENTSTREAM_ADMIN_KEY to use admin endpoints")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), expected):
        raise ApiError(403, "not_admin", "this needs the admin key")
    return gateway


Admin = Annotated[Gateway, Depends(admin)]
Identity = Annotated[str, Path(pattern=ACTOR_ID_PATTERN)]


@router.get("/authors/{identity}")
async def author_data(gateway: Admin, identity: Identity) -> dict[str, Any]:
    """Everything held about one author (a data-access request), from their threads' logs."""
    return await export_author(gateway.store, gateway.vault, identity)


@router.delete("/authors/{identity}")
async def erase(gateway: Admin, identity: Identity) -> dict[str, Any]:
    """Crypto-shred one author: their key is deleted, their comments read [deleted]."""
    return await erase_author(gateway.store, gateway.vault, identity, ADMIN, gateway.sender.send)
