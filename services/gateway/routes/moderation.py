"""Moderation routes: verdicts on comments, pins, reports, locks, and the moderators' queue.

Moderators are the admin key, a site's listed identities and SSO tokens with the role; the
decider refuses anyone else (403 not_moderator), and the queue is read by moderators only."""

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from events.commands import (
    BANS_THREAD,
    ApproveComment,
    BanAuthor,
    LockThread,
    MarkSpam,
    PinComment,
    RejectComment,
    ReportComment,
    UnbanAuthor,
    UnlockThread,
    UnpinComment,
)
from events.identifiers import COMMENT_ID_PATTERN, THREAD_ID_PATTERN
from events.moderation import ban_id_of
from projections.audit_trail import HistoryLine, told
from projections.moderation.model import QueueName
from services.gateway.errors import ApiError
from services.gateway.moderation_queue import InvalidQueueCursor, queue_page
from services.gateway.routes.dependencies import (
    GatewayDep,
    Moderator,
    RequiredCaller,
    SiteParam,
    Target,
    ThreadParam,
)
from services.gateway.routes.threads import answer
from services.gateway.schemas import (
    ERROR_RESPONSES,
    Ban,
    BanList,
    NewBan,
    QueuePage,
    Report,
    Written,
)

router = APIRouter(prefix="/api/v1", tags=["moderation"], responses=ERROR_RESPONSES)
COMMENT = "/threads/{thread}/comments/{comment_id}"


@router.post(COMMENT + "/approve", response_model=Written)
async def approve(target: Target) -> JSONResponse:
    """Publish a held (or rejected, or spam) comment; also answers its reports."""
    return await answer(target.gateway, ApproveComment(**target.command_fields()))


@router.post(COMMENT + "/reject", response_model=Written)
async def reject(target: Target) -> JSONResponse:
    """Hide a comment (held or published)."""
    return await answer(target.gateway, RejectComment(**target.command_fields()))


@router.post(COMMENT + "/spam", response_model=Written)
async def spam(target: Target) -> JSONResponse:
    """Hide a comment as spam."""
    return await answer(target.gateway, MarkSpam(**target.command_fields()))


@router.post(COMMENT + "/pin", response_model=Written)
async def pin(target: Target) -> JSONResponse:
    """Show a published top-level comment first, in every sort."""
    return await answer(target.gateway, PinComment(**target.command_fields()))


@router.post(COMMENT + "/unpin", response_model=Written)
async def unpin(target: Target) -> JSONResponse:
    return await answer(target.gateway, UnpinComment(**target.command_fields()))


@router.post(COMMENT + "/report", response_model=Written)
async def report(target: Target, request: Report) -> JSONResponse:
    """Any reader flags a published comment for the moderators, once per reader."""
    limits = target.gateway.sites.get(target.site).limits
    await target.gateway.limiter.take(
        "reports", target.site, target.actor.id, limits.likes_per_minute_per_identity
    )
    command = ReportComment(**target.command_fields(), reason=request.reason)
    return await answer(target.gateway, command)


@router.put("/threads/{thread}/lock", response_model=Written)
async def lock(
    gateway: GatewayDep, thread: ThreadParam, actor: RequiredCaller, site: SiteParam = "default"
) -> JSONResponse:
    """Close the thread: no posts, replies, edits or likes (but by moderators)."""
    return await answer(gateway, LockThread(site=site, thread=thread, actor=actor))


@router.delete("/threads/{thread}/lock", response_model=Written)
async def unlock(
    gateway: GatewayDep, thread: ThreadParam, actor: RequiredCaller, site: SiteParam = "default"
) -> JSONResponse:
    return await answer(gateway, UnlockThread(site=site, thread=thread, actor=actor))


@router.get("/moderation/queue", response_model=QueuePage)
async def moderation_queue(
    gateway: GatewayDep,
    moderator: Moderator,
    site: SiteParam = "default",
    status: QueueName = "pending",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> QueuePage:
    """A queue of the site, oldest first: pending (held), reported, spam; with why, the
    author and their verdicts so far, and each queue's size."""
    try:
        return await queue_page(
            gateway.reads, gateway.vault, gateway.store.partitions, site, status, limit, cursor
        )
    except InvalidQueueCursor as error:
        raise ApiError(400, "invalid_cursor", str(error), "cursor") from error


@router.get("/moderation/history", response_model=list[HistoryLine])
async def comment_history(
    gateway: GatewayDep,
    moderator: Moderator,
    thread: Annotated[str, Query(pattern=THREAD_ID_PATTERN)],
    comment_id: Annotated[str, Query(pattern=COMMENT_ID_PATTERN)],
    site: SiteParam = "default",
) -> list[HistoryLine]:
    """Everything the log holds about one comment, oldest first: who posted, edited, reported,
    approved or hid it, and when (read from the thread's history, never from a read model)."""
    lines = []
    for envelope in await gateway.store.thread_history(site, thread):
        if getattr(envelope.event(), "comment_id", None) == comment_id:
            lines.append(await told(gateway.vault, envelope))
    return lines


@router.post("/bans", status_code=201, response_model=Written)
async def ban(
    gateway: GatewayDep, moderator: Moderator, request: NewBan, site: SiteParam = "default"
) -> JSONResponse:
    """Ban an author from the site (by identity, email, address, or as the author of a comment:
    `thread` and `comment_id`); `id` in the answer is the ban's."""
    if request.site is not None and request.site != site:
        raise ApiError(422, "invalid_field", "the body's site is not the site asked for", "site")
    fields = request.model_dump(exclude={"site", "thread", "comment_id"})
    if request.thread is not None and request.comment_id is not None:  # ban its author
        models = await gateway.reads.active(gateway.store.keys_for(site, request.thread))
        found = await gateway.reads.threads.records(
            models.thread_view, site, request.thread, [request.comment_id]
        )
        if request.comment_id not in found:
            raise ApiError(404, "comment_not_found", "no such comment in this thread", "comment_id")
        fields["identity"] = found[request.comment_id].author_id
    command = BanAuthor(site=site, actor=moderator, **fields)
    command = command.model_copy(update={"ban_id": ban_id_of(command.command_id)})
    return await answer(gateway, command, created=True)


@router.get("/bans", response_model=BanList)
async def bans(gateway: GatewayDep, moderator: Moderator, site: SiteParam = "default") -> BanList:
    """The site's bans in force, newest first (who is banned is kept only as keyed hashes)."""
    models = await gateway.reads.active(gateway.store.keys_for(site, BANS_THREAD))
    found = await gateway.reads.moderation.bans(models.moderation, site)
    return BanList(
        site=site,
        bans=[
            Ban(
                id=b.ban_id,
                kinds=b.kinds,
                until=b.until,
                reason=b.reason,
                hide_comments=b.hide_comments,
                by=b.by,
                at=b.at,
            )
            for b in found
        ],
    )


@router.delete("/bans/{ban_id}", response_model=Written)
async def unban(
    gateway: GatewayDep,
    moderator: Moderator,
    ban_id: Annotated[str, Path(pattern=r"^[a-z0-9]{1,32}$")],
    site: SiteParam = "default",
) -> JSONResponse:
    return await answer(gateway, UnbanAuthor(site=site, actor=moderator, ban_id=ban_id))
