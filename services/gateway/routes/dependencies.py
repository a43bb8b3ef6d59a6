"""Shared request parameters: the gateway, the site, the caller's identity."""

import hmac
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Query, Request

from events.actors import Actor
from events.identifiers import COMMENT_ID_PATTERN, SITE_ID_PATTERN, THREAD_ID_PATTERN
from events.moderation import is_moderator
from services.gateway.context import Gateway
from services.gateway.errors import ApiError
from services.gateway.identity import InvalidToken, verify_sso


async def gateway_of(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


ADMIN = Actor(id="service:admin", kind="service", moderator=True)


async def caller(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    site: Annotated[str, Query(pattern=SITE_ID_PATTERN)] = "default",
) -> Actor | None:
    """Who calls: from `Authorization: Bearer <token>`, which is an anonymous identity this
    server signed, a host site's SSO JWT, or the admin key (a moderator). None: a newcomer.
    A site's moderators (its listed identities, SSO tokens with the role) come as such."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "invalid_token", "use Authorization: Bearer <token>")
    gateway: Gateway = request.app.state.gateway
    admin_key = gateway.settings.admin_key
    if admin_key and hmac.compare_digest(token, admin_key):
        return ADMIN
    try:
        if token.count(".") == 2:
            actor, profile = verify_sso(token, site, gateway.sites.get(site).sso_secret)
            request.state.sso_profile = profile
        else:
            actor = gateway.signer.verify(token)
    except InvalidToken as error:
        raise ApiError(401, "invalid_token", str(error)) from error
    if not actor.moderator and is_moderator(
        gateway.sites.get(site).moderation, site, actor.id, False
    ):
        actor = actor.model_copy(update={"moderator": True})
    return actor


async def required_caller(actor: Annotated[Actor | None, Depends(caller)]) -> Actor:
    if actor is None:
        raise ApiError(401, "identity_required", "this needs an identity: POST /api/v1/session")
    return actor


ThreadParam = Annotated[str, Path(pattern=THREAD_ID_PATTERN, description="opaque thread id")]
CommentParam = Annotated[str, Path(pattern=COMMENT_ID_PATTERN)]
SiteParam = Annotated[str, Query(pattern=SITE_ID_PATTERN)]
GatewayDep = Annotated[Gateway, Depends(gateway_of)]
Caller = Annotated[Actor | None, Depends(caller)]
RequiredCaller = Annotated[Actor, Depends(required_caller)]


async def moderator_caller(actor: RequiredCaller) -> Actor:
    """A moderator of the site: the admin key, a listed identity, or an SSO token's role."""
    if not actor.moderator:
        raise ApiError(403, "not_moderator", "only a moderator of this site may do this")
    return actor


Moderator = Annotated[Actor, Depends(moderator_caller)]


@dataclass(frozen=True)
class CommentTarget:
    """The comment a write is about, and who writes."""

    gateway: Gateway
    site: str
    thread: str
    comment_id: str
    actor: Actor

    def command_fields(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "thread": self.thread,
            "comment_id": self.comment_id,
            "actor": self.actor,
        }


async def comment_target(
    gateway: GatewayDep,
    thread: ThreadParam,
    comment_id: CommentParam,
    actor: RequiredCaller,
    site: SiteParam = "default",
) -> CommentTarget:
    return CommentTarget(gateway, site, thread, comment_id, actor)


Target = Annotated[CommentTarget, Depends(comment_target)]
