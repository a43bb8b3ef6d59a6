"""The gateway application: wiring, lifespan and middleware. Routes live in `routes/`."""

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from services.gateway.abuse import RateLimiter
from services.gateway.context import Gateway
from services.gateway.cors import SiteCors
from services.gateway.demo.seeding import seed_demo
from services.gateway.errors import install_error_handlers
from services.gateway.fast_live import ROUTE_PATH as LIVE_PATH
from services.gateway.fast_live import LiveStream, LiveStreamsFirst
from services.gateway.fast_reads import COUNTS_PATH, ROUTE_PATH, FastThreadReads
from services.gateway.identity import TokenSigner
from services.gateway.limits import ASGIApp, RequestLimits
from services.gateway.live_hub import LiveHub
from services.gateway.metrics import MeasureAndHarden
from services.gateway.read_models import ReadModels
from services.gateway.routes import admin, moderation, system, threads, webhooks, widget
from services.gc_pauses import freeze_startup_objects
from services.settings import Settings, settings_for_a_process
from services.sites import Sites
from storage.command_sender import CommandSender
from storage.connection import connect
from storage.deployment import DeploymentGuard
from storage.event_store import EventStore, ensure_command_groups
from storage.key_vault import AuthorKeyVault
from storage.log_reader import close_client
from storage.outcome_listener import OutcomeListener


def create_app(settings: Settings) -> ASGIApp:
    redis = connect(settings.store, "gateway")
    store = EventStore(redis, settings.partitions, settings.outcome_ttl_seconds)
    listener = OutcomeListener(redis, settings.partitions)
    reads = ReadModels(redis, settings.read_wait_seconds, settings.edit_window)
    gateway = Gateway(
        settings=settings,
        redis=redis,
        store=store,
        sender=CommandSender(
            redis, store, listener, settings.write_timeout_seconds, settings.outcome_ttl_seconds
        ),
        reads=reads,
        signer=TokenSigner(settings.secret),
        vault=AuthorKeyVault(redis, settings.secret),
        guard=DeploymentGuard(redis, settings.deployment, settings.partitions),
        sites=Sites.from_settings(settings),
        limiter=RateLimiter(redis),
        live=LiveHub(
            follower=connect(settings.store, "gateway"),  # its own connection: see live_hub.py
            reads=reads,
            partitions=settings.partitions,
            per_process=settings.live_streams_per_process,
            per_address=settings.live_streams_per_address,
            buffer=settings.live_buffer,
        ),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await gateway.guard.establish()
        await ensure_command_groups(redis, settings.partitions)
        await listener.start()
        gateway.live.start()
        end_streams_on_exit_signal(gateway.live)
        background = [asyncio.create_task(gateway.guard.watch())]
        if settings.demo:  # only where asked: the log of a real site is no place for it
            demo_url = settings.public_url and settings.public_url + "/demo"
            background.append(
                asyncio.create_task(seed_demo(store, gateway.sender, "default", demo_url))
            )
        freeze_startup_objects()
        try:
            yield
        finally:
            await gateway.live.stop()
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await listener.stop()
            await close_client(redis)

    app = FastAPI(
        title="commentstream",
        version="1",
        description="Event-sourced comments on Redis Streams.",
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    install_error_handlers(app)

    app.include_router(threads.router)
    app.include_router(system.router)
    app.include_router(widget.router)
    app.include_router(admin.router)
    app.include_router(moderation.router)
    app.include_router(webhooks.router)
    # The last one added is the outermost.
    app.add_middleware(
        FastThreadReads,
        gateway=gateway,
        route=_route(threads.router, ROUTE_PATH),
        counts_route=_route(threads.router, COUNTS_PATH),
    )
    app.add_middleware(MeasureAndHarden)
    app.add_middleware(RequestLimits)
    app.add_middleware(SiteCors, sites=gateway.sites)  # outermost: a 413 still reaches the widget
    stream = LiveStream(gateway, _route(threads.router, LIVE_PATH))
    return LiveStreamsFirst(app, SiteCors(RequestLimits(MeasureAndHarden(stream)), gateway.sites))


def end_streams_on_exit_signal(live: LiveHub) -> None:
    """On SIGTERM or SIGINT, end the live streams first, then let uvicorn stop as it does: it
    waits for open responses to finish, and a live stream never finishes by itself."""
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(number)

        def on_exit(signum: int, frame: FrameType | None, previous: Any = previous) -> None:
            loop.call_soon_threadsafe(live.end_all)
            if callable(previous):
                previous(signum, frame)

        with contextlib.suppress(ValueError):  # not the main thread (an in-process test app)
            signal.signal(number, on_exit)


def app_from_environment() -> ASGIApp:
    """The app of one of several gateway worker processes (COMMENTSTREAM_GATEWAY_WORKERS)."""
    return create_app(settings_for_a_process())


def _route(router: APIRouter, path: str) -> APIRoute:
    return next(r for r in router.routes if isinstance(r, APIRoute) and r.path == path)
