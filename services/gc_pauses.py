"""Short garbage-collection pauses for long-running services.

A full (oldest-generation) collection walks every tracked object. After startup a service holds
hundreds of thousands of them (FastAPI, pydantic and FastStream models, imported modules) that
live as long as the process, so each full collection takes tens of milliseconds, and every
request or event in flight waits that long: the tail of the write path (docs/benchmarks.md).
Freezing what startup built moves it out of the collector's sight; later collections walk only
what the service made since.
"""

import gc
from dataclasses import dataclass


def freeze_startup_objects() -> None:
    """Collect once, then exempt every object alive now from future collections."""
    gc.collect()
    gc.freeze()


@dataclass
class LongLivedStreams:
    """Keeps a crowd of open live streams out of the collector's walk.

    Each open stream holds some 75 tracked objects for as long as its reader stays, and a full
    collection walks them all: about 0.4 s at 10,000 readers, a pause that every reader's next
    update then waits for (docs/benchmarks.md, "Live readers"). When the streams have grown by
    a tenth (and at least `min_growth`) since the last freeze, what is alive is frozen (gc.freeze
    costs nothing). Frozen objects are still freed when their last reference goes; only cyclic
    garbage among them waits: a closed stream leaves none (measured: 2,000 streams opened and
    closed, nothing for gc.collect to find), the requests in flight at a freeze may leave some.
    When the crowd has halved, everything is unfrozen and collected once (one pause, shorter
    for the smaller crowd), and what is left is frozen again.
    """

    min_growth: int = 100
    _frozen_at: int = 0

    def streams_now(self, open_streams: int) -> None:
        if open_streams >= self._frozen_at + max(self.min_growth, self._frozen_at // 10):
            gc.freeze()
            self._frozen_at = open_streams
        elif self._frozen_at and open_streams <= self._frozen_at // 2:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self._frozen_at = open_streams
