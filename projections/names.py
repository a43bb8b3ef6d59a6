"""The name of every projection, in one place: the CLI, the supervisor, the dead-letter tools and
/readyz name them from here (without importing the projections themselves)."""

THREAD_VIEW = "thread_view"
LIKE_COUNTS = "like_counts"
MODERATION = "moderation"
PROJECTION_NAMES = (THREAD_VIEW, LIKE_COUNTS, MODERATION)
