"""The name of every projection, in one place: the CLI, the supervisor, the dead-letter tools and
/readyz name them from here (without importing the projections themselves)."""

THREAD_VIEW = "thread_view"
LIKE_COUNTS = "like_counts"
MODERATION = "moderation"
PROJECTION_NAMES = (THREAD_VIEW, LIKE_COUNTS, MODERATION)
# What readers' pages are built from: a write is visible once both have folded it (the position
# a write answers with, `min_position`, the benchmarks' "command to visible").
READER_PROJECTIONS = (THREAD_VIEW, LIKE_COUNTS)
