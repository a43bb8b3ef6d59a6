"""Every Redis key name of commentstream, built here and nowhere else.

Keys of one partition carry the hash tag `{p}`, so one Lua script (or MULTI) can touch them
all, also on Redis Cluster. A thread lives in partition `crc32("site/thread") % partitions`.
"""

import zlib
from dataclasses import dataclass

PREFIX = "cs"
WRITER_GROUP = "writer"


def partition_of(site: str, thread: str, partitions: int) -> int:
    """The partition of a thread: CRC32 of `site/thread`, the same in every language."""
    return zlib.crc32(f"{site}/{thread}".encode()) % partitions


@dataclass(frozen=True)
class PartitionKeys:
    """Key names inside partition `p`."""

    p: int

    @property
    def tag(self) -> str:
        return f"{PREFIX}:{{{self.p}}}"

    @property
    def commands(self) -> str:
        return f"{self.tag}:commands"

    @property
    def events(self) -> str:
        """The log: never trimmed, one JSON envelope per entry."""
        return f"{self.tag}:events"

    @property
    def outcomes(self) -> str:
        return f"{self.tag}:outcomes"

    @property
    def dead_commands(self) -> str:
        return f"{self.tag}:dead:commands"

    def outcome(self, command_id: str) -> str:
        return f"{self.tag}:outcome:{command_id}"

    def queued(self, command_id: str) -> str:
        return f"{self.tag}:queued:{command_id}"

    def thread_state(self, site: str, thread: str) -> str:
        return f"{self.tag}:thread:{site}/{thread}:state"

    def thread_events(self, site: str, thread: str) -> str:
        """A copy of one thread's events, ids `0-<thread_version>`: its history without a scan."""
        return f"{self.tag}:thread:{site}/{thread}:events"

    def checkpoint(self, projection: str) -> str:
        return f"{self.tag}:projection:{projection}:checkpoint"

    def dead_events(self, projection: str) -> str:
        return f"{self.tag}:projection:{projection}:dead"

    def view_comments(self, site: str, thread: str) -> str:
        return f"{self.tag}:view:{site}/{thread}:comments"

    def view_meta(self, site: str, thread: str) -> str:
        return f"{self.tag}:view:{site}/{thread}:meta"

    @property
    def view_counts(self) -> str:
        """Hash `site/thread` -> number of visible comments, for listing pages."""
        return f"{self.tag}:view:counts"

    def like_counts(self, site: str, thread: str) -> str:
        return f"{self.tag}:likes:{site}/{thread}:counts"

    def likers(self, site: str, thread: str, comment_id: str) -> str:
        return f"{self.tag}:likes:{site}/{thread}:{comment_id}:likers"


def author_key(actor_id: str) -> str:
    """The sealed data key of one author, kept apart from the log (crypto-shredding)."""
    return f"{PREFIX}:vault:{actor_id}"


def demo_seeded(site: str, thread: str) -> str:
    """Set once the demo thread has its seed comments."""
    return f"{PREFIX}:demo:{site}/{thread}:seeded"


HEARTBEATS = f"{PREFIX}:heartbeats"
"""Sorted set: service instance -> time of its last heartbeat."""
