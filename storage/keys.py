"""Every Redis key name of commentstream, built here and nowhere else.

Keys of one partition carry its hash tag (`cs:{3.161}:events`), so one Lua script (or MULTI)
can touch them all, also on Redis Cluster. A thread lives in partition
`crc32("site/thread") % partitions`.
"""

import binascii
import functools
import itertools
import zlib
from dataclasses import dataclass

from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

PREFIX = "cs"
WRITER_GROUP = "writer"
DIGESTS = f"{PREFIX}:digests"
"""The signed digests of the log (events/digest.py), oldest first; fields seq, digest, signature."""


def partition_of(site: str, thread: str, partitions: int) -> int:
    """The partition of a thread: CRC32 of `site/thread`, the same in every language."""
    return zlib.crc32(f"{site}/{thread}".encode()) % partitions


SLOT_BITS = 14  # 16,384 slots


def partition_target_slot(p: int) -> int:
    """Where partition `p`'s keys should hash: `p`'s 14 bits in reverse order (0, 8192, 4096,
    12288, 2048, ...). The first P of these, for P a power of two, are P evenly spaced slots, so
    a cluster whose masters hold equal runs of slots (as `--cluster create` and `rebalance`
    leave them) gets P/S partitions per master, rounded up or down, for any count S."""
    return int(f"{p:0{SLOT_BITS}b}"[::-1], 2)


@functools.cache
def partition_tag(p: int) -> str:
    """The hash tag of partition `p`: `p.n`, for the first n that hashes to its target slot
    (Redis Cluster's CRC16, continued from that of `p.`: some 16,000 tries, a few ms)."""
    target = partition_target_slot(p)
    prefix = f"{p}.".encode()
    start = binascii.crc_hqx(prefix, 0)
    for n in itertools.count():
        if binascii.crc_hqx(str(n).encode(), start) % REDIS_CLUSTER_HASH_SLOTS == target:
            return f"{p}.{n}"
    raise AssertionError("unreachable")


def partition_slot(p: int) -> int:
    """The cluster slot of every key of partition `p` (its target slot)."""
    return key_slot(partition_tag(p).encode())


@dataclass(frozen=True)
class PartitionKeys:
    """Key names inside partition `p`."""

    p: int

    @property
    def tag(self) -> str:
        return f"{PREFIX}:{{{partition_tag(self.p)}}}"

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
        """One thread's history: ids `0-<thread_version>`, each entry the `position` of that event
        in the partition log, so a thread is read without a scan."""
        return f"{self.tag}:thread:{site}/{thread}:events"

    def actor_threads(self, actor_id: str) -> str:
        """Set of the threads (`site/thread`) of this partition in which `actor_id` has an
        event, kept by the append: erasure and data export find an author's threads here."""
        return f"{self.tag}:actor:{actor_id}:threads"

    def active_generation(self, projection: str) -> str:
        """Which generation of a projection's read model readers use (absent: 0)."""
        return f"{self.tag}:projection:{projection}:active"

    def dead_events(self, projection: str) -> str:
        return f"{self.tag}:projection:{projection}:dead"

    def subscriber_dead(self, group: str) -> str:
        """Events a subscribing service's group (services/client) gave up on: each entry the
        event's `position`, `deliveries` and the event's own fields."""
        return f"{self.tag}:subscriber:{group}:dead"

    def projection(self, name: str, generation: int) -> "ProjectionKeys":
        return ProjectionKeys(self, name, generation)


@dataclass(frozen=True)
class ProjectionKeys:
    """Keys of one generation of one projection's read model in one partition.

    A replay builds generation g+1 beside g, then readers switch to it; every key of a
    generation starts with `prefix`, so the old one is dropped by that pattern.
    """

    partition: PartitionKeys
    name: str
    generation: int

    @property
    def prefix(self) -> str:
        return f"{self.partition.tag}:{self.name}:{self.generation}"

    @property
    def checkpoint(self) -> str:
        """The last log entry folded into this generation."""
        return f"{self.prefix}:checkpoint"

    def comments(self, site: str, thread: str) -> str:
        """thread_view: hash comment id -> comment record JSON."""
        return f"{self.prefix}:{site}/{thread}:comments"

    def public(self, site: str, thread: str) -> str:
        """thread_view: hash comment id -> public JSON fragment (thread_view/fragments.py)."""
        return f"{self.prefix}:{site}/{thread}:public"

    def held(self, site: str, thread: str) -> str:
        """thread_view: hash comment id -> `author_id fragment` of a comment held for
        moderation, which only its author sees (thread_view/fragments.py, held_fragment)."""
        return f"{self.prefix}:{site}/{thread}:held"

    def roots(self, site: str, thread: str) -> str:
        """thread_view: sorted set of top-level comment ids by time (microseconds)."""
        return f"{self.prefix}:{site}/{thread}:roots"

    def replies(self, site: str, thread: str) -> str:
        """thread_view: hash top-level comment id -> its descendants, `child:parent,…`."""
        return f"{self.prefix}:{site}/{thread}:replies"

    def meta(self, site: str, thread: str) -> str:
        """thread_view: hash of title, url, count, version."""
        return f"{self.prefix}:{site}/{thread}:meta"

    @property
    def counts(self) -> str:
        """thread_view: hash `site/thread` -> number of visible comments, for listing pages."""
        return f"{self.prefix}:counts"

    def queue(self, site: str, status: str) -> str:
        """moderation: sorted set `thread/comment id` -> when it entered the queue (ms), one
        per site and queue (pending, reported, spam)."""
        return f"{self.prefix}:{site}:queue:{status}"

    def queue_items(self, site: str) -> str:
        """moderation: hash `thread/comment id` -> the comment's moderation record (JSON)."""
        return f"{self.prefix}:{site}:items"

    def bans(self, site: str) -> str:
        """moderation: hash ban id -> the ban (JSON: subjects as keyed hashes, until, reason),
        in the partition of the site's `~bans` thread."""
        return f"{self.prefix}:{site}:bans"

    def banned(self, site: str) -> str:
        """moderation: hash `kind:digest` of a banned identity, email or address -> its ban's
        id and end (JSON), for the processor's check of a new comment."""
        return f"{self.prefix}:{site}:banned"

    def author_history(self, site: str) -> str:
        """moderation: hash `actor id:verdict` -> how many of the author's comments in this
        partition got that verdict (approved, rejected, spam)."""
        return f"{self.prefix}:{site}:authors"

    def like_counts(self, site: str, thread: str) -> str:
        """like_counts: hash comment id -> number of likes."""
        return f"{self.prefix}:{site}/{thread}:likes"

    def likers(self, site: str, thread: str, comment_id: str) -> str:
        """like_counts: sorted set actor id -> time of the like (ms)."""
        return f"{self.prefix}:{site}/{thread}:{comment_id}:likers"


def author_key(actor_id: str) -> str:
    """The sealed data key of one author, kept apart from the log (crypto-shredding)."""
    return f"{PREFIX}:vault:{actor_id}"


def rate_limit(kind: str, site: str, subject: str) -> str:
    """A token bucket, e.g. posts by one IP address on one site."""
    return f"{PREFIX}:ratelimit:{kind}:{site}:{subject}"


def spam_model(site: str) -> str:
    """A site's trained spam model (JSON, events/spam_score.py), written by `spam train`."""
    return f"{PREFIX}:spam:{site}:model"


def spam_model_trained(site: str) -> str:
    """When the site's spam model was trained: the processor reloads the model when it moves."""
    return f"{PREFIX}:spam:{site}:trained"


def demo_seeded(site: str, thread: str) -> str:
    """Set once the demo thread has its seed comments."""
    return f"{PREFIX}:demo:{site}/{thread}:seeded"


WEBHOOKS = f"{PREFIX}:webhooks"
"""Hash: endpoint id -> the endpoint (JSON: site, url, events, secret, state), every site's."""

WEBHOOK_FAILURES = f"{PREFIX}:webhooks:failures"
"""Hash: endpoint id -> its failed attempts in a row (HINCRBY: concurrent deliveries count
right)."""

WEBHOOK_RETRIES = f"{PREFIX}:webhooks:retries"
"""Sorted set: a delivery to try again (JSON) -> when (s since the epoch)."""

WEBHOOK_DEAD = f"{PREFIX}:webhooks:dead"
"""Deliveries given up on after their last retry, with the endpoint, event and last error."""


def webhook_deliveries(endpoint_id: str) -> str:
    """The last deliveries to one endpoint (capped): event, attempt, status, error, when."""
    return f"{PREFIX}:webhooks:{endpoint_id}:deliveries"


DEPLOYMENT = f"{PREFIX}:deployment"
"""A random id written by the first process of a deployment: its absence means a wiped server."""

HEARTBEATS = f"{PREFIX}:heartbeats"
"""Sorted set: service instance -> time of its last heartbeat."""
