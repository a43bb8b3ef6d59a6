"""The projections a `commentstream project NAME` process can run."""

from collections.abc import Callable

from redis.asyncio import Redis

from projections.like_counts.projector import LikeCountsProjection
from projections.projector import Projection
from projections.thread_view.projector import ThreadViewProjection
from services.settings import Settings
from services.storage.key_vault import AuthorKeyVault

PROJECTIONS: dict[str, Callable[[Redis, Settings], Projection]] = {
    ThreadViewProjection.name: lambda redis, settings: ThreadViewProjection(
        redis, AuthorKeyVault(redis, settings.secret)
    ),
    LikeCountsProjection.name: lambda redis, settings: LikeCountsProjection(),
}
