"""CPU time of a system under test, from /proc: every process of it (their children too, such as
gateway workers), Redis included, user plus system time. The load generator is not counted."""

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


def _own_seconds(pid: int) -> float:
    """utime + stime of one process (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (name) "
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND  # fields 14 and 15 of stat


def cpu_seconds(pids: list[int]) -> float:
    """CPU seconds used so far by these processes and every descendant still running."""
    total, seen, pending = 0.0, set(), list(pids)
    while pending:
        pid = pending.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _own_seconds(pid)
        pending += _children(pid)
    return total
