"""Identity, command status, health, readiness, metrics and the AsyncAPI document."""

import yaml
from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from projections.names import PROJECTION_NAMES
from services.asyncapi import asyncapi_document
from services.gateway.errors import ApiError
from services.gateway.routes.dependencies import GatewayDep, RequiredCaller, SiteParam
from services.gateway.schemas import ERROR_RESPONSES, CommandStatus, Me, Session
from storage.dead_letters import counts as dead_letter_counts
from storage.heartbeats import live_services

router = APIRouter(responses=ERROR_RESPONSES)
REQUIRED_SERVICES = (
    "processor",
    *(f"projector-{name}" for name in PROJECTION_NAMES),
    "webhooks",
)


@router.post("/api/v1/session", response_model=Session, status_code=201, tags=["identity"])
async def new_session(gateway: GatewayDep) -> Session:
    """A signed anonymous reader identity, needed to like and to edit one's own comments."""
    actor, token = gateway.signer.new_anonymous()
    return Session(token=token, identity=actor.id)


@router.get("/api/v1/me", response_model=Me, tags=["identity"])
async def me(actor: RequiredCaller, site: SiteParam = "default") -> Me:
    """The caller's identity on the site, and whether they moderate it (the widget then shows
    its moderation controls)."""
    return Me(identity=actor.id, kind=actor.kind, moderator=actor.moderator)


@router.get("/api/v1/commands/{command_id}", response_model=CommandStatus, tags=["commands"])
async def command_status(gateway: GatewayDep, command_id: str) -> CommandStatus:
    """The outcome of a queued command: pending, accepted (with id and position) or rejected."""
    status = await gateway.sender.status(command_id)
    if status is None:
        raise ApiError(404, "unknown_command", "no command with this id is known")
    if isinstance(status, str):
        return CommandStatus(command_id=command_id, status=status)
    return CommandStatus(
        command_id=command_id,
        status=status.status,
        id=status.comment_id,
        comment_status=status.comment_status,
        position=status.position,
        code=status.code,
        message=status.message,
        field=status.field,
    )


@router.get("/healthz", tags=["operations"])
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", tags=["operations"])
async def readyz(gateway: GatewayDep) -> JSONResponse:
    """Ready when Redis answers and takes writes, and every service has sent a heartbeat
    lately."""
    checks: dict[str, str] = {}
    try:
        await gateway.redis.ping()
        checks["redis"] = "ok"
        live = await live_services(gateway.redis)
        if not await gateway.store.takes_writes():
            checks["store"] = "full: Redis is at maxmemory and refuses writes until memory is freed"
    except Exception as error:
        checks["redis"] = f"unreachable: {error}"
        live = set()
    for service in REQUIRED_SERVICES:
        checks[service] = "ok" if service in live else "missing"
    checks["deployment"] = (
        "ok" if await gateway.guard.check() else "wiped: the server lost this deployment's data"
    )
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, 200 if ready else 503)


@router.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
async def metrics(gateway: GatewayDep) -> Response:
    """Prometheus text: the gateway's own metrics, and dead letters waiting per kind."""
    parked = await dead_letter_counts(gateway.redis, gateway.store.partitions, PROJECTION_NAMES)
    lines = [
        "# HELP commentstream_dead_letters Commands and events parked in dead-letter streams.",
        "# TYPE commentstream_dead_letters gauge",
        *(f'commentstream_dead_letters{{kind="{kind}"}} {n}' for kind, n in parked.items()),
        "# HELP commentstream_live_streams Live streams this gateway process holds open.",
        "# TYPE commentstream_live_streams gauge",
        f"commentstream_live_streams {gateway.live.open_streams}",
        "# HELP commentstream_live_streams_dropped_total Live readers dropped for falling behind.",
        "# TYPE commentstream_live_streams_dropped_total counter",
        f"commentstream_live_streams_dropped_total {gateway.live.dropped_streams}",
    ]
    body = generate_latest() + ("\n".join(lines) + "\n").encode()
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.get("/asyncapi", tags=["operations"])
@router.get("/asyncapi.json", tags=["operations"])
async def asyncapi(gateway: GatewayDep) -> JSONResponse:
    """The AsyncAPI 3 document of the streams (commands, the log, outcomes), made from the
    code; docs/asyncapi.json is the same for the default 8 partitions."""
    return JSONResponse(asyncapi_document(gateway.settings.partitions))


class YamlResponse(Response):
    media_type = "application/yaml"


@router.get(
    "/asyncapi.yaml",
    tags=["operations"],
    response_class=YamlResponse,
    response_model=None,
    responses={
        200: {
            "content": {"application/yaml": {"schema": {"type": "object"}}},
            "description": "the AsyncAPI document",
        }
    },
)
async def asyncapi_yaml(gateway: GatewayDep) -> YamlResponse:
    """The same document as YAML."""
    document = asyncapi_document(gateway.settings.partitions)
    return YamlResponse(yaml.safe_dump(document, sort_keys=False))
