"""CPU time of a system under test, from /proc: every process of it (their children too, such as
gateway workers), Redis included, user plus system time. The load generator is not counted.
Also how long their threads waited for a core (the run queue), and how busy the machine was."""

import os
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def own_cpu_seconds(pid: int) -> float:
    """utime + stime of one process (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (name) "
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND  # fields 14 and 15 of stat


def _with_descendants(pids: list[int]) -> set[int]:
    seen: set[int] = set()
    pending = list(pids)
    while pending:
        pid = pending.pop()
        if pid not in seen:
            seen.add(pid)
            pending += _children(pid)
    return seen


def cpu_seconds(pids: list[int]) -> float:
    """CPU seconds used so far by these processes and every descendant still running."""
    return sum(own_cpu_seconds(pid) for pid in _with_descendants(pids))


def own_run_queue_wait_seconds(pid: int) -> float:
    """Time every thread of one process spent runnable but waiting for a core (the second
    field of /proc/PID/task/TID/schedstat, in ns; 0 if it is gone)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


def run_queue_wait_seconds(pids: list[int]) -> float:
    """Seconds these processes and their descendants have spent waiting for a core so far."""
    return sum(own_run_queue_wait_seconds(pid) for pid in _with_descendants(pids))


def machine_busy_and_total_ticks() -> tuple[int, int]:
    """From /proc/stat: ticks every core spent busy (all but idle and iowait), and in all."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)
