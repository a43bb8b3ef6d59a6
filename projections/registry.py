"""The projections a `commentstream project NAME` process can run, by name."""

from collections.abc import Callable

from projections.like_counts.projector import LikeCountsProjection
from projections.moderation.projector import ModerationProjection
from projections.names import LIKE_COUNTS, MODERATION, PROJECTION_NAMES, THREAD_VIEW
from projections.projection import Projection
from projections.thread_view.projector import ThreadViewProjection
from storage.connection import Store
from storage.key_vault import AuthorKeyVault

MakeProjection = Callable[[Store, AuthorKeyVault], Projection]

PROJECTIONS: dict[str, MakeProjection] = {
    THREAD_VIEW: lambda redis, vault: ThreadViewProjection(redis, vault),
    LIKE_COUNTS: lambda redis, vault: LikeCountsProjection(),
    MODERATION: lambda redis, vault: ModerationProjection(redis),
}
assert tuple(PROJECTIONS) == PROJECTION_NAMES
