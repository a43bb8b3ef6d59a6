"""The `commentstream` command: every process of the system, and the operators' tools."""

import logging
import subprocess
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
import uvloop

from projections.names import PROJECTION_NAMES
from services.operations.cli import register_operations
from services.settings import Settings, settings_for_a_process

# From projections.names, not projections.registry, so that `--help` stays fast.
ProjectionName = StrEnum("ProjectionName", {name: name for name in PROJECTION_NAMES})  # type: ignore[misc]


app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)


def _warn_default_secret(settings: Settings) -> None:
    if settings.secret == Settings.model_fields["secret"].default:
        logging.getLogger("commentstream").warning(
            "COMMENTSTREAM_SECRET is the built-in default: fine for a demo, never for production"
        )


@app.command()
def up(
    cluster: Annotated[
        bool,
        typer.Option(
            "--cluster",
            help="A local Redis Cluster (3 masters, 3 replicas, data in DATA_DIR/cluster/)"
            " instead of one embedded server.",
        ),
    ] = False,
) -> None:
    """Embedded Redis (unless REDIS_URL or REDIS_CLUSTER_URL is set) and every service; Ctrl-C
    stops all."""
    from services.supervisor import run_everything

    settings = settings_for_a_process()
    _warn_default_secret(settings)
    raise typer.Exit(run_everything(settings, cluster=cluster))


@app.command()
def gateway() -> None:
    """The HTTP API and the widget."""
    import uvicorn

    from services.gateway.app import create_app

    settings = settings_for_a_process()
    _warn_default_secret(settings)
    # proxy_headers off: uvicorn would trust X-Forwarded-For from 127.0.0.1; the gateway
    # trusts it only from COMMENTSTREAM_TRUSTED_PROXIES (services/gateway/abuse.py).
    serving: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "info",
        "access_log": False,  # requests are counted and timed in /metrics
        "proxy_headers": False,
        "loop": "auto",  # uvloop and httptools when installed (they are dependencies)
        "http": "auto",
    }
    if settings.gateway_workers > 1:  # each worker builds its app from the environment
        uvicorn.run(
            "services.gateway.app:app_from_environment",
            factory=True,
            workers=settings.gateway_workers,
            **serving,
        )
    else:
        uvicorn.run(create_app(settings), **serving)


def _run_service(application: Any, guard: Any) -> None:
    """Run a FastStream app on uvloop (as uvicorn runs the gateway), with what its startup built
    frozen out of the collector's sight (the gateway does the same in its lifespan); exit 3 if
    the server turned out wiped (see storage/deployment)."""
    from services.gc_pauses import freeze_startup_objects
    from storage.deployment import EXIT_WIPED, StoreWiped

    @application.after_startup
    async def freeze() -> None:
        freeze_startup_objects()

    try:
        uvloop.run(application.run())
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
def webhooks() -> None:
    """The webhook delivery service."""
    from services.webhooks.app import build_webhooks

    _run_service(*build_webhooks(settings_for_a_process()))


@app.command()
def project(projection: ProjectionName) -> None:
    """Run one projector."""
    from projections.registry import PROJECTIONS
    from services.projector.app import build_projector

    _run_service(*build_projector(settings_for_a_process(), PROJECTIONS[projection.value]))


class Peer(StrEnum):
    isso = "isso"


def _benchmarks_root() -> Path:
    """The checkout holding benchmarks/ (beside services/); exits with advice when absent."""
    root = Path(__file__).resolve().parent.parent
    if not (root / "benchmarks" / "suite.py").is_file():
        typer.echo(
            f"commentstream bench needs a source checkout: no benchmarks/ in {root}"
            " (a non-editable install leaves it out). Clone the repository and run"
            " `pip install -e .` there, or `make bench`.",
            err=True,
        )
        raise typer.Exit(2)
    return root


@app.command()
def bench(
    peer: Annotated[Peer | None, typer.Option(help="Run the same operations on it too.")] = None,
    scale: Annotated[float, typer.Option(help="Share of the full sizes (1.0: the issue's).")] = 1.0,
    output: Annotated[Path | None, typer.Option(help="JSON path (default bench-results/).")] = None,
) -> None:
    """The benchmark suite on loopback (python -m benchmarks.suite): table and JSON."""
    args = ["--scale", str(scale)]
    args += ["--peer", peer.value] if peer else []
    args += ["--output", str(output.resolve())] if output else []
    root = _benchmarks_root()
    command = [sys.executable, "-m", "benchmarks.suite", *args]
    raise typer.Exit(subprocess.run(command, cwd=root, check=False).returncode)


register_operations(app)  # after the processes, so `--help` lists those first


def main() -> None:
    app()


if __name__ == "__main__":
    main()
