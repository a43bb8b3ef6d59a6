"""A projection as a FastStream application. One follower reads every partition's log
`cs:{p}:events` in one blocking XREAD, from the stored checkpoints (from the start of the log for
a new projection), and hands what came to the runner, which commits every partition's batch in
one round trip.

(FastStream's stream subscriber reads one stream per call: one per partition, each paying a
read, FastStream's per-message path and a commit for every event, was most of a projector's
cost per comment; docs/benchmarks.md. FastStream still runs the app: its lifecycle, signals and
hooks.)"""

import asyncio
import logging

from faststream import FastStream

from projections.names import MODERATION
from projections.registry import MakeProjection
from services.projector.runner import ProjectorRunner
from services.runtime import ServiceTasks, make_broker, supervise
from services.settings import Settings
from storage.connection import connect
from storage.deployment import DeploymentGuard
from storage.failures import STORE_UNAVAILABLE
from storage.key_vault import AuthorKeyVault
from storage.keys import PartitionKeys
from storage.log_follower import LogFollower

logger = logging.getLogger("commentstream.projector")
RETRY_SECONDS = 0.5


def build_projector(
    settings: Settings, make_projection: MakeProjection
) -> tuple[FastStream, DeploymentGuard]:
    """The FastStream app of one projection over every partition."""
    app = FastStream(make_broker(settings))
    redis = connect(settings.store, "projector")
    projection = make_projection(redis, AuthorKeyVault(redis, settings.secret))
    runner = ProjectorRunner(redis, projection)
    tasks = ServiceTasks(app)  # first: stopped before `supervise` closes the connection
    guard = supervise(app, redis, f"projector-{projection.name}", settings)

    @app.on_startup
    async def follow_from_checkpoints() -> None:
        cursors = {
            p: await runner.load_checkpoint(PartitionKeys(p)) for p in settings.owned_partitions
        }
        follower = LogFollower(redis, cursors, settings.batch_size)
        tasks.start(follow_the_log(runner, follower, settings), "log follower")

    return app, guard


def pace_seconds(settings: Settings, projection: str) -> float:
    """The least time between two reads of the log (0: read again at once)."""
    return settings.moderation_pace_ms / 1000 if projection == MODERATION else 0.0


async def follow_the_log(
    runner: ProjectorRunner, follower: LogFollower, settings: Settings
) -> None:
    linger_seconds = settings.batch_linger_ms / 1000
    pace = pace_seconds(settings, runner.projection.name)
    loop = asyncio.get_running_loop()
    try:
        while True:
            read_at = loop.time()
            try:
                batches = await follower.read()
            except STORE_UNAVAILABLE as error:
                logger.warning("%s: log read failed (%s); retrying", runner.projection.name, error)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            await runner.process_together(batches)
            read = sum(len(entries) for _, entries in batches)
            if linger_seconds and 1 < read < settings.batch_size:
                # Events come more than one at a time: the log is busy. Linger before the next read,
                # so that they come in bigger batches, each paying one read and one commit. Events
                # that come one at a time are folded at once, without the wait.
                await asyncio.sleep(linger_seconds)
            elif pace:
                # Whatever comes meanwhile waits for the next read, which takes it all at once.
                await asyncio.sleep(max(0.0, read_at + pace - loop.time()))
    finally:
        await follower.aclose()  # reads still in flight (a cluster's)
