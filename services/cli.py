"""The `commentstream` command: every process of the system, and the operators' tools."""

import asyncio
import logging
from enum import StrEnum
from typing import Any

import typer

from services.operations import register_operations
from services.settings import Settings, settings_for_a_process


class ProjectionName(StrEnum):
    """Kept here, not read from projections.registry, so `--help` stays fast."""

    thread_view = "thread_view"
    like_counts = "like_counts"


app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)


def _warn_default_secret(settings: Settings) -> None:
    if settings.secret == Settings.model_fields["secret"].default:
        logging.getLogger("commentstream").warning(
            "COMMENTSTREAM_SECRET is the built-in default: fine for a demo, never for production"
        )


@app.command()
def up() -> None:
    """Embedded Redis (unless REDIS_URL is set) and every service; Ctrl-C stops all."""
    from services.supervisor import run_everything

    settings = settings_for_a_process()
    _warn_default_secret(settings)
    raise typer.Exit(run_everything(settings))


@app.command()
def gateway() -> None:
    """The HTTP API and the widget."""
    import uvicorn

    from services.gateway.app import create_app

    settings = settings_for_a_process()
    _warn_default_secret(settings)
    # proxy_headers off: uvicorn would trust X-Forwarded-For from 127.0.0.1; the gateway
    # trusts it only from COMMENTSTREAM_TRUSTED_PROXIES (services/gateway/abuse.py).
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        proxy_headers=False,
    )


def _run_service(application: Any, guard: Any) -> None:
    """Run a FastStream app; exit 3 if the server turned out wiped (see services/deployment)."""
    from services.deployment import EXIT_WIPED, StoreWiped

    try:
        asyncio.run(application.run())
    except StoreWiped as error:
        raise typer.Exit(EXIT_WIPED) from error
    if guard.wiped:
        raise typer.Exit(EXIT_WIPED)


@app.command()
def processor() -> None:
    """The command processor."""
    from services.processor.app import build_processor

    _run_service(*build_processor(settings_for_a_process()))


@app.command()
def project(projection: ProjectionName) -> None:
    """Run one projector."""
    from projections.projector import build_projector
    from projections.registry import PROJECTIONS

    _run_service(*build_projector(settings_for_a_process(), PROJECTIONS[projection.value]))


register_operations(app)  # after the processes, so `--help` lists those first


def main() -> None:
    app()


if __name__ == "__main__":
    main()
