"""The operations the suite runs against every subject, sized by a Plan."""

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.cpu import cpu_seconds
from benchmarks.loadgen import MakeRequest, Request, Response, load
from benchmarks.subjects import BODY_300, Subject

LEVELS = (1, 16, 64)
WRITES = 5_000  # posts, and likes, per concurrency level at full scale
POST_THREADS = 50
COUNT_THREADS = 20
LIKES_THREAD = "bench-likes"
HOT_THREAD = "bench-hot"
THREAD_1000 = "bench-thread-1000"
MAX_VOTES_PER_COMMENT = 100  # Isso takes no more than 142 votes on one comment
LIVE_SIZES = (100, 1_000, 10_000)  # open live streams, at full scale


@dataclass(frozen=True)
class Plan:
    """Every size of a run, from `scale` (1.0: the issue's full sizes)."""

    scale: float

    def requests(self, nominal: int, concurrency: int) -> int:
        """Requests of one write measure: nominal x scale, at least 2 per connection."""
        return max(20, 2 * concurrency, round(nominal * self.scale))

    @property
    def measure_seconds(self) -> float:
        """Wall-time cap of one write measure (a slow system does fewer requests)."""
        return max(5.0, 60.0 * self.scale)

    @property
    def read_seconds(self) -> float:
        """How long each read measure runs (requests in flight then finish)."""
        return max(1.0, 10.0 * self.scale)

    @property
    def thread_1000(self) -> int:
        """Comments in the "1,000" thread: full from scale 0.1 on."""
        return min(1_000, max(50, round(10_000 * self.scale)))

    @property
    def thread_big(self) -> int:
        """Comments in the "100,000" thread: 100,000 x scale."""
        return max(self.thread_1000, round(100_000 * self.scale))

    @property
    def fill_seconds(self) -> float:
        """Wall-time cap on filling the big thread."""
        return max(20.0, 600.0 * self.scale)

    @property
    def visible_seconds(self) -> float:
        """How long the command -> visible measure posts."""
        return max(2.0, 10.0 * self.scale)

    @property
    def live_sizes(self) -> list[int]:
        """Open live streams per measure: 100, 1,000 and 10,000 x scale, those of 10 or more."""
        return sorted({round(n * self.scale) for n in LIVE_SIZES if round(n * self.scale) >= 10})

    @property
    def live_write_seconds(self) -> float:
        """How long new comments are timed with and without the live readers."""
        return max(0.5, 4.0 * self.scale)

    @property
    def replay_events(self) -> int:
        """Events in the replay measure's log (a multiple of 100)."""
        return max(1_000, round(10_000 * self.scale) * 100)

    def describe(self) -> dict[str, Any]:
        """The plan's sizes, for the JSON report."""
        sizes = {
            name: getattr(self, name)
            for name in (
                "measure_seconds",
                "read_seconds",
                "thread_1000",
                "thread_big",
                "fill_seconds",
                "visible_seconds",
                "replay_events",
            )
        }
        return asdict(self) | sizes | {"writes_per_level": self.requests(WRITES, 1)}


def post_thread(n: int) -> str:
    return f"bench-post-{n % POST_THREADS}"


async def fill(
    subject: Subject, thread: str, count: int, until: float | None = None
) -> tuple[list[str], dict[str, Any]]:
    """Post `count` comments on `thread` at concurrency 16 (until `until`); their ids in order."""
    ids: dict[int, str] = {}

    def keep(n: int, response: Response, _: float) -> None:
        if response.status == 201:
            ids[n] = subject.comment_id(response)

    result = await load(
        16,
        count,
        lambda _: subject.new_comment(thread, BODY_300),
        base_url=subject.base_url,
        on_response=keep,
        until=until,
    )
    return [ids[n] for n in sorted(ids)], result


async def counted(
    subject: Subject, plan: Plan, concurrency: int, make: MakeRequest
) -> dict[str, Any]:
    """A closed-loop write measure: the plan's requests, or fewer at its wall-time cap."""
    planned = plan.requests(WRITES, concurrency)
    result = await load(
        concurrency,
        planned,
        make,
        base_url=subject.base_url,
        until=time.perf_counter() + plan.measure_seconds,
    )
    return result | {"planned": planned}


async def timed(
    subject: Subject, plan: Plan, concurrency: int, make: MakeRequest
) -> dict[str, Any]:
    """A closed-loop read measure: as many requests as `plan.read_seconds` allows."""
    until = time.perf_counter() + plan.read_seconds
    return await load(concurrency, 10**9, make, base_url=subject.base_url, until=until)


async def costed(
    subject: Subject, plan: Plan, concurrency: int, make: MakeRequest
) -> dict[str, Any]:
    """`counted`, with the CPU time every process of the subject spent on it (until what was
    written is visible), per 201: `cpu_ms_per_comment`, and by process."""
    processes = subject.process_ids()
    await subject.settle()
    before = {name: cpu_seconds([pid]) for name, pid in processes.items()}
    result = await counted(subject, plan, concurrency, make)
    await subject.settle()
    per_comment = 1000 / max(result["statuses"].get(201, 0), 1)
    by_process = {
        name: round((cpu_seconds([pid]) - before[name]) * per_comment, 3)
        for name, pid in processes.items()
    }
    return result | {
        "cpu_ms_per_comment": round(sum(by_process.values()), 3),
        "cpu_ms_per_comment_by_process": by_process,
    }


async def new_comments(subject: Subject, plan: Plan) -> tuple[dict[str, Any], dict[str, Any]]:
    """Posts at each concurrency on 50 threads, with their CPU per comment; and the store's
    bytes per comment they cost."""
    await subject.settle()
    before = await subject.memory_bytes()
    levels = {
        str(c): await costed(
            subject, plan, c, lambda n: subject.new_comment(post_thread(n), BODY_300)
        )
        for c in LEVELS
    }
    await subject.settle()
    after = await subject.memory_bytes()
    comments = sum(level["statuses"].get(201, 0) for level in levels.values())
    memory = {
        "bytes_before": before,
        "bytes_after": after,
        "comments": comments,
        "bytes_per_comment": round((after - before) / max(comments, 1)),
    }
    return levels, memory


async def hot_thread(subject: Subject, plan: Plan) -> dict[str, Any]:
    """Every post at c16 into one thread: a viral post, the real peak."""
    return await costed(subject, plan, 16, lambda _: subject.new_comment(HOT_THREAD, BODY_300))


async def likes(subject: Subject, plan: Plan) -> dict[str, Any]:
    """Likes at each concurrency on one thread, every one from a distinct (user, comment)."""
    total = sum(plan.requests(WRITES, c) for c in LEVELS)
    ids, _ = await fill(subject, LIKES_THREAD, max(20, math.ceil(total / MAX_VOTES_PER_COMMENT)))
    if not ids:
        raise RuntimeError(f"{subject.name} refused every comment of the likes thread")
    await subject.settle()
    await subject.prepare_likers(math.ceil(total / len(ids)))
    levels: dict[str, Any] = {"comments": len(ids)}
    offset = 0
    for c in LEVELS:

        def make(n: int, base: int = offset) -> Request:
            like = base + n
            return subject.like(LIKES_THREAD, ids[like % len(ids)], like // len(ids))

        levels[str(c)] = await counted(subject, plan, c, make)
        offset += levels[str(c)]["planned"]
    return levels


async def thread_reads(subject: Subject, plan: Plan) -> dict[str, Any]:
    """A thread of 1,000 comments, whole and first page, at concurrency 16."""
    ids, _ = await fill(subject, THREAD_1000, plan.thread_1000)
    await subject.settle()
    return {
        "comments": len(ids),
        "whole": await timed(subject, plan, 16, lambda _: subject.whole_thread(THREAD_1000)),
        "first_page": await timed(subject, plan, 16, lambda _: subject.first_page(THREAD_1000)),
    }


async def counts(subject: Subject, plan: Plan) -> dict[str, Any]:
    """Counts of 20 threads in one request, at concurrency 16."""
    request = subject.counts([post_thread(n) for n in range(COUNT_THREADS)])
    return await timed(subject, plan, 16, lambda _: request)


async def first_page_by_size(subject: Subject, plan: Plan, thread_1000: int) -> dict[str, Any]:
    """First-page latency (concurrency 1) on threads of 10, 1,000 and 100,000 comments.

    The "1,000" thread is the one `thread_reads` filled (`thread_1000` comments); the big one is
    filled at concurrency 16 for at most `plan.fill_seconds`. Every thread is filled and visible
    before the first is read, so all three are read in the same state."""
    sizes: dict[str, Any] = {
        "10": {"comments": len((await fill(subject, _size_thread(10), 10))[0])},
        "1000": {"comments": thread_1000},
        "100000": await _fill_big(subject, _size_thread(100_000), plan),
    }
    await subject.settle()
    for nominal, entry in sizes.items():
        entry |= await timed(subject, plan, 1, _same(subject.first_page, nominal))
    return sizes


def _same(build: Callable[[str], Request], nominal: str) -> MakeRequest:
    """Request n is always the same: `build` on the thread of that nominal size."""
    request = build(_size_thread(int(nominal)))
    return lambda _: request


def _size_thread(nominal: int) -> str:
    return THREAD_1000 if nominal == 1_000 else f"bench-size-{nominal}"


async def _fill_big(subject: Subject, thread: str, plan: Plan) -> dict[str, Any]:
    """Fill the big thread up to plan.thread_big comments or plan.fill_seconds."""
    ids, result = await fill(
        subject, thread, plan.thread_big, until=time.perf_counter() + plan.fill_seconds
    )
    entry: dict[str, Any] = {
        "comments": len(ids),
        "planned_comments": plan.thread_big,
        "fill": {key: result[key] for key in ("seconds", "per_s", "p50_ms", "p99_ms", "statuses")},
    }
    if len(ids) < plan.thread_big:
        entry["capped"] = (
            f"filling stopped at the {plan.fill_seconds:.0f} s wall-time cap with {len(ids)} of"
            f" {plan.thread_big} comments ({result['per_s']}/s)"
        )
    return entry


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"


Progress = Callable[[str], None]


async def common(subject: Subject, plan: Plan, progress: Progress) -> dict[str, Any]:
    """Every measure both systems run, in order."""
    results: dict[str, Any] = {}
    progress(f"{subject.name}: new comments at c1, c16, c64")
    results["new_comments"], results["memory"] = await new_comments(subject, plan)
    progress(f"{subject.name}: new comments at c16, all into one thread")
    results["hot_thread"] = await hot_thread(subject, plan)
    progress(f"{subject.name}: likes")
    results["likes"] = await likes(subject, plan)
    progress(f"{subject.name}: a thread of {plan.thread_1000:,}, whole and first page")
    results["thread_1000"] = await thread_reads(subject, plan)
    progress(f"{subject.name}: counts of 20 threads")
    results["counts_20_threads"] = await counts(subject, plan)
    progress(f"{subject.name}: first page by thread size (up to {plan.thread_big:,} comments)")
    results["first_page_by_size"] = await first_page_by_size(
        subject, plan, results["thread_1000"]["comments"]
    )
    return results
