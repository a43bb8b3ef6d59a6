"""Thread routes: read a thread, write comments, likes, counts."""

import re
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from events.commands import (
    Command,
    DeleteComment,
    EditComment,
    LikeComment,
    UnlikeComment,
    command_adapter,
)
from events.identifiers import THREAD_ID_PATTERN, new_message_id
from events.moderation import address_key, ban_key
from events.outcomes import Outcome
from events.personal import AuthorDetails
from projections.thread_view.pages import PageRequest
from projections.thread_view.query import InvalidCursor, SortOrder, ThreadView
from services.gateway.abuse import check_form, client_address
from services.gateway.context import Gateway
from services.gateway.errors import REJECTION_STATUS, ApiError
from services.gateway.live import LAST_EVENT_ID, STREAM_HEADERS, thread_updates
from services.gateway.live_hub import REFUSED_RETRY_AFTER_SECONDS, StreamRefused
from services.gateway.metrics import OUTCOMES, PAGE_READS
from services.gateway.routes.dependencies import (
    Caller,
    CommentParam,
    GatewayDep,
    SiteParam,
    Target,
    ThreadParam,
)
from services.gateway.schemas import (
    ERROR_RESPONSES,
    CommentChange,
    CommentSource,
    LikersPage,
    NewComment,
    Queued,
    Written,
)
from storage.event_store import CommandStreamMissing
from storage.unsealing import sources_at

WIPED_DETAIL = "the server lost this deployment's data; see /readyz"
router = APIRouter(prefix="/api/v1", tags=["threads"], responses=ERROR_RESPONSES)
STREAM_ID = r"^\d{1,20}-\d{1,20}$"
# Limits of a page read, shared with the plain ASGI path (services/gateway/fast_reads.py).
MAX_PAGE_LIMIT = 1000
MAX_CURSOR_CHARS = 512
MAX_COUNTED_THREADS = 200


@router.get("/threads/{thread}", response_model=ThreadView)
async def read_thread(
    gateway: GatewayDep,
    thread: ThreadParam,
    viewer: Caller,
    site: SiteParam = "default",
    sort: SortOrder = "oldest",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_CHARS)] = None,
    min_position: Annotated[str | None, Query(pattern=STREAM_ID)] = None,
) -> Response:
    """Top-level comments, `limit` at a time, each with its whole reply tree."""
    try:
        page = await gateway.reads.thread_page(
            gateway.store.keys_for(site, thread),
            PageRequest(
                site,
                thread,
                sort,
                limit,
                cursor,
                gateway.sites.get(site).moderation.auto_close_days,
            ),
            viewer=viewer,
            min_position=min_position,
        )
    except InvalidCursor as error:
        raise ApiError(400, "invalid_cursor", str(error), "cursor") from error
    PAGE_READS.labels("fastapi").inc()
    return Response(page, media_type="application/json")


@router.get(
    "/threads/{thread}/live",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def live(
    request: Request,
    gateway: GatewayDep,
    thread: ThreadParam,
    site: SiteParam = "default",
    last_event_id: Annotated[str | None, Header(pattern=LAST_EVENT_ID)] = None,
) -> StreamingResponse:
    """Server-sent events: `comment` (new), `update` (edited or deleted), `likes` (a count).

    Each event's id is the thread version; send it back as Last-Event-ID to resume.
    (A well-formed request is served by services/gateway/fast_live.py, with the same bytes.)"""
    keys = gateway.store.keys_for(site, thread)
    address = client_address(request, gateway.settings.proxies)
    try:
        subscription = gateway.live.subscribe(site, thread, address)
    except StreamRefused as refused:
        retry_after = {"Retry-After": str(REFUSED_RETRY_AFTER_SECONDS)}
        raise ApiError(refused.status, refused.code, str(refused), headers=retry_after) from refused
    updates = thread_updates(
        gateway.live,
        subscription,
        gateway.reads,
        keys,
        int(last_event_id) if last_event_id else None,
    )
    return StreamingResponse(updates, headers=STREAM_HEADERS)


@router.post(
    "/threads/{thread}/comments",
    status_code=201,
    response_model=Written,
    responses={202: {"model": Queued}},
)
async def post_comment(
    gateway: GatewayDep,
    thread: ThreadParam,
    request: NewComment,
    caller: Caller,
    http: Request,
    site: SiteParam = "default",
) -> JSONResponse:
    limits = gateway.sites.get(site).limits
    check_form(request.hp, request.elapsed_ms, limits.min_seconds_to_submit)
    address = client_address(http, gateway.settings.proxies)
    if caller is None or not caller.moderator:
        await gateway.limiter.take("posts", site, address, limits.posts_per_minute_per_ip)
    if caller is not None and not caller.moderator:
        await gateway.limiter.take(
            "posts_by_identity", site, caller.id, limits.posts_per_minute_per_identity
        )
    token = None
    if caller is None:
        caller, token = gateway.signer.new_anonymous()
    author = request.author
    profile = getattr(http.state, "sso_profile", None)
    if profile is not None:  # what the host site says of its user fills what the form left out
        author = AuthorDetails.model_validate(
            {"name": profile.name, "email": profile.email, "website": profile.url}
            | author.model_dump(exclude_none=True)
        )
    command = command_adapter.validate_python(
        {
            "type": "Reply" if request.parent_id else "PostComment",
            "command_id": request.command_id or new_message_id(),
            "site": site,
            "thread": thread,
            "actor": caller,
            "body": request.body,
            "author": author,
            "title": request.title,
            "url": request.url,
            "address_key": address_key(ban_key(gateway.settings.secret), address),
            **({"parent_id": request.parent_id} if request.parent_id else {}),
        }
    )
    fresh_id = request.command_id is None
    return await answer(gateway, command, created=True, author_token=token, fresh_id=fresh_id)


@router.patch("/threads/{thread}/comments/{comment_id}", response_model=Written)
async def edit_comment(target: Target, request: CommentChange) -> JSONResponse:
    """Change a comment's body: its author (anonymous: within the edit window) or a moderator."""
    command = EditComment(**target.command_fields(), body=request.body)
    return await answer(target.gateway, command)


@router.get("/threads/{thread}/comments/{comment_id}/source", response_model=CommentSource)
async def comment_source(
    target: Target, min_position: Annotated[str | None, Query(pattern=STREAM_ID)] = None
) -> CommentSource:
    """A comment's body as written, for the edit form: its author or a moderator. The read
    models keep no copy of it: it is unsealed from the log (the comment's post or last edit)."""
    gateway, site, thread = target.gateway, target.site, target.thread
    keys = gateway.store.keys_for(site, thread)
    if min_position is not None:
        await gateway.reads.wait_for(keys, min_position)
    active = await gateway.reads.active(keys)
    found = await gateway.reads.threads.records(
        active.thread_view, site, thread, [target.comment_id]
    )
    record = found.get(target.comment_id)
    if record is None or record.status == "deleted":
        raise ApiError(404, "comment_not_found", "no such comment in this thread", "comment_id")
    if record.author_id != target.actor.id and not target.actor.moderator:
        raise ApiError(403, "not_author", "only the author or a moderator may do this")
    sources = (
        await sources_at(gateway.reads.redis, gateway.vault, keys, {record.id: record.source_at})
        if record.source_at
        else {}
    )
    if record.id not in sources:
        raise ApiError(404, "source_not_found", "this comment's author was erased", "comment_id")
    return CommentSource(id=record.id, markup=record.markup, source=sources[record.id])


@router.delete("/threads/{thread}/comments/{comment_id}", response_model=Written)
async def delete_comment(target: Target) -> JSONResponse:
    """Delete a comment; it stays as a placeholder while it has replies."""
    return await answer(target.gateway, DeleteComment(**target.command_fields()))


@router.put("/threads/{thread}/comments/{comment_id}/like", response_model=Written)
async def like_comment(target: Target) -> JSONResponse:
    limits = target.gateway.sites.get(target.site).limits
    await target.gateway.limiter.take(
        "likes", target.site, target.actor.id, limits.likes_per_minute_per_identity
    )
    return await answer(target.gateway, LikeComment(**target.command_fields()))


@router.delete("/threads/{thread}/comments/{comment_id}/like", response_model=Written)
async def unlike_comment(target: Target) -> JSONResponse:
    return await answer(target.gateway, UnlikeComment(**target.command_fields()))


@router.get("/threads/{thread}/comments/{comment_id}/likes", response_model=LikersPage)
async def who_likes(
    gateway: GatewayDep,
    thread: ThreadParam,
    comment_id: CommentParam,
    site: SiteParam = "default",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(pattern=r"^\d{1,9}$")] = None,
) -> LikersPage:
    page = await gateway.reads.likers_page(
        gateway.store.keys_for(site, thread), site, thread, comment_id, int(cursor or 0), limit
    )
    if page is None:
        raise ApiError(404, "comment_not_found", "no such comment in this thread", "comment_id")
    return page


@router.get("/counts", response_model=dict[str, int])
async def counts(
    gateway: GatewayDep,
    thread: Annotated[list[str], Query(min_length=1, max_length=MAX_COUNTED_THREADS)],
    site: SiteParam = "default",
) -> dict[str, int]:
    """Visible comments per thread, for listing pages: `?thread=a&thread=b`."""
    for name in thread:
        if not _valid_thread(name):
            raise ApiError(422, "invalid_field", f"thread {name!r} is not a valid id", "thread")
    return await gateway.reads.counts(site, thread, gateway.store.partitions)


def _valid_thread(name: str) -> bool:
    return re.fullmatch(THREAD_ID_PATTERN, name) is not None


async def answer(
    gateway: Gateway,
    command: Command,
    *,
    created: bool = False,
    author_token: str | None = None,
    fresh_id: bool = True,
) -> JSONResponse:
    if gateway.guard.wiped:
        raise ApiError(503, "store_wiped", WIPED_DETAIL)
    try:
        outcome = await gateway.sender.send(command, fresh_id=fresh_id)
    except CommandStreamMissing as missing:
        # A write in the moment between a wipe and the next marker check: nothing was written.
        if not await gateway.guard.check():
            raise ApiError(503, "store_wiped", WIPED_DETAIL) from missing
        raise ApiError(503, "unavailable", f"{missing}; try again later") from missing
    if outcome is None:
        OUTCOMES.labels("queued", "").inc()
        queued = Queued(
            command_id=command.command_id,
            status_url=f"/api/v1/commands/{command.command_id}",
            author_token=author_token,
        )
        return JSONResponse(queued.model_dump(exclude_none=True), 202)
    OUTCOMES.labels(outcome.status, outcome.code or "").inc()
    if outcome.status == "rejected":
        raise rejection_error(outcome)
    written = Written(
        id=outcome.comment_id,
        position=outcome.position,
        result=outcome.code,
        status=outcome.comment_status,
        held_for=list(outcome.held_for) if outcome.held_for else None,
        author_token=author_token,
    )
    return JSONResponse(written.model_dump(exclude_none=True), 201 if created else 200)


def rejection_error(outcome: Outcome) -> ApiError:
    code = outcome.code or "rejected"
    return ApiError(REJECTION_STATUS.get(code, 409), code, outcome.message or code, outcome.field)
