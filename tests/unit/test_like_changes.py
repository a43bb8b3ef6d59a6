"""A batch of likes is written as its net effect: the same end state, fewer commands."""

from projections.like_counts.projector import LikeChanges
from storage.read_model_writes import Write

COUNTS, LIKERS = "counts", "likers:c1"


def test_a_like_and_its_unlike_in_one_batch_leave_the_count_at_zero_and_remove_the_liker() -> None:
    # As the two would in separate batches: the count "0", not absent.
    changes = LikeChanges()
    changes.like(COUNTS, LIKERS, "c1", "anon:a", 10)
    changes.unlike(COUNTS, LIKERS, "c1", "anon:a")
    assert changes.writes().writes == [
        Write("HINCRBY", COUNTS, ("c1", 0)),
        Write("ZREM", LIKERS, ("anon:a",)),
    ]


def test_likes_of_one_comment_become_one_increment_and_one_zadd() -> None:
    changes = LikeChanges()
    changes.like(COUNTS, LIKERS, "c1", "anon:a", 10)
    changes.like(COUNTS, LIKERS, "c1", "anon:b", 11)
    changes.unlike(COUNTS, "likers:c2", "c2", "anon:a")
    changes.like(COUNTS, "likers:c2", "c2", "anon:a", 12)  # the last word wins
    assert changes.writes().writes == [
        Write("HINCRBY", COUNTS, ("c1", 2)),
        Write("HINCRBY", COUNTS, ("c2", 0)),
        Write("ZADD", LIKERS, (10, "anon:a", 11, "anon:b")),
        Write("ZADD", "likers:c2", (12, "anon:a")),
    ]
