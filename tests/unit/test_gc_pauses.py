"""When the live streams' objects are frozen out of the collector's walk, and when they return."""

import gc
import weakref
from collections.abc import Iterator

import pytest

from services.gc_pauses import LongLivedStreams


class InACycle:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_growing_crowd_is_frozen_and_a_halved_one_collected(unfrozen: None) -> None:
    streams = LongLivedStreams(min_growth=100)
    streams.streams_now(99)
    assert gc.get_freeze_count() == 0  # not yet grown enough
    streams.streams_now(100)
    assert gc.get_freeze_count() > 0
    gc.unfreeze()
    streams.streams_now(1_000)
    streams.streams_now(1_050)  # less than a tenth more: no new freeze
    assert gc.get_freeze_count() > 0
    gc.unfreeze()
    streams.streams_now(1_050)
    assert gc.get_freeze_count() == 0

    cycle = InACycle()
    gone = weakref.ref(cycle)
    gc.freeze()
    del cycle  # garbage, but frozen: out of the collector's sight
    gc.collect()
    assert gone() is not None
    streams.streams_now(499)  # halved: unfrozen, collected, frozen again
    assert gone() is None
    assert gc.get_freeze_count() > 0
