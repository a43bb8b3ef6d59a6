"""The `commentstream` command: every process of the system is one subcommand."""

import argparse
import asyncio
import logging

from services.settings import Settings, get_settings

# Kept here, not imported from projections.registry, so `--help` stays fast.
PROJECTION_NAMES = ("thread_view", "like_counts")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="commentstream", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="embedded Redis (unless REDIS_URL) and every service")
    commands.add_parser("gateway", help="the HTTP API")
    commands.add_parser("processor", help="the command processor")
    project = commands.add_parser("project", help="run one projector")
    project.add_argument("projection", choices=PROJECTION_NAMES)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = get_settings()
    if (
        args.command in ("up", "gateway")
        and settings.secret == Settings.model_fields["secret"].default
    ):
        logging.getLogger("commentstream").warning(
            "COMMENTSTREAM_SECRET is the built-in default: fine for a demo, never for production"
        )
    if args.command == "up":
        from services.supervisor import run_everything

        return run_everything(settings)
    if args.command == "gateway":
        import uvicorn

        from services.gateway.app import create_app

        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")
        return 0
    if args.command == "processor":
        from services.processor.app import build_processor

        app, _broker = build_processor(settings)
        asyncio.run(app.run())
        return 0
    from projections.projector import build_projector
    from projections.registry import PROJECTIONS

    asyncio.run(build_projector(settings, PROJECTIONS[args.projection]).run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
