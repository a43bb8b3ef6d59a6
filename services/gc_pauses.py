"""Short garbage-collection pauses for long-running services.

A full (oldest-generation) collection walks every tracked object. After startup a service holds
hundreds of thousands of them (FastAPI, pydantic and FastStream models, imported modules) that
live as long as the process, so each full collection takes tens of milliseconds, and every
request or event in flight waits that long: the tail of the write path (docs/benchmarks.md).
Freezing what startup built moves it out of the collector's sight; later collections walk only
what the service made since.
"""

import gc


def freeze_startup_objects() -> None:
    """Collect once, then exempt every object alive now from future collections."""
    gc.collect()
    gc.freeze()
