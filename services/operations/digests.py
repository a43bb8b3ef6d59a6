"""`commentstream digest --output FILE` and `verify --digest FILE`: the latest signed digest,
kept outside the system, proves the log up to it unchanged, or names the first event that is
not, even after every later hash was recomputed and the read models replayed.

The file holds the signed digest and, per partition, every event it covers as (position,
`site/thread`, version, chain hash recomputed from the event's content). Its events fold to the
signed log hashes, so the signature covers them too."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from events.digest import Digest, PartitionMark, folded, signature_holds
from events.envelope import GENESIS_HASH
from events.log_entry import UnreadableEntry, chained_hash, entry_head
from storage.connection import Store
from storage.digests import latest_digest
from storage.keys import PartitionKeys
from storage.log_reader import log_entries
from storage.stream_entries import parse_stream_id

FILE_FORMAT = "commentstream-digest-1"
Listed = tuple[str, str, int, str]  # position, site/thread, version, recomputed chain hash


class DigestUnusable(RuntimeError):
    """No digest to export, or one whose signature or log does not hold."""


@dataclass(frozen=True)
class Altered:
    """The first event of a partition that is not what the digest covered."""

    partition: int
    position: str
    thread: str
    version: int
    problem: str  # changed | missing | inserted
    expected: str
    found: str


@dataclass
class DigestCheck:
    seq: int
    at: str
    key: str
    events: int = 0
    problems: list[str] = field(default_factory=list)  # of the file itself
    altered: list[Altered] = field(default_factory=list)  # first per partition, in log order


async def recomputed(redis: Store, partition: int, until: str) -> AsyncIterator[Listed]:
    """A partition's events up to `until`, each chain hash computed from the content."""
    heads: dict[str, str] = {}
    async for page in log_entries(redis, PartitionKeys(partition), until=until):
        for position, fields in page:
            try:
                head = entry_head(fields)
            except UnreadableEntry:
                yield position, "?", 0, ""
                continue
            thread = f"{head.site}/{head.thread}"
            chained = chained_hash(fields, heads.get(thread, GENESIS_HASH)) or ""
            heads[thread] = chained
            yield position, thread, head.version, chained


async def _listed(redis: Store, partition: int, mark: PartitionMark) -> list[Listed]:
    if not mark.events:
        return []
    return [event async for event in recomputed(redis, partition, mark.position)]


def _fold(listed: list[Listed]) -> PartitionMark:
    return folded(PartitionMark(), [(position, chained) for position, _, _, chained in listed])


async def export_digest(redis: Store) -> dict[str, Any]:
    """The file's content for the latest digest, once the log is checked against it."""
    latest = await latest_digest(redis)
    if latest is None:
        raise DigestUnusable("no digest yet (is COMMENTSTREAM_SIGNING_KEY_FILE set?)")
    digest = latest.digest
    if not signature_holds(digest, latest.signature):
        raise DigestUnusable(f"digest {digest.seq}: the signature does not hold")
    events: dict[str, list[Listed]] = {}
    for partition, mark in enumerate(digest.partitions):
        listed = await _listed(redis, partition, mark)
        if _fold(listed) != mark:
            raise DigestUnusable(
                f"digest {digest.seq}: partition {partition} no longer matches it; "
                "verify --digest with an earlier file tells where"
            )
        events[str(partition)] = listed
    return {
        "format": FILE_FORMAT,
        "digest": digest.model_dump(mode="json"),
        "signature": latest.signature,
        "events": events,
    }


async def verify_against(
    redis: Store, document: dict[str, Any], public_key: str | None = None
) -> DigestCheck:
    """Check the log against an exported digest file (signed by `public_key`, if given)."""
    digest = Digest.model_validate(document["digest"])
    check = DigestCheck(digest.seq, digest.at.isoformat(), digest.key)
    if public_key is not None and public_key != digest.key:
        check.problems.append(f"signed by key {digest.key}, not by {public_key}")
    if not signature_holds(digest, document["signature"]):
        check.problems.append("the digest's signature does not hold")
    for partition, mark in enumerate(digest.partitions):
        kept = [tuple(event) for event in document["events"].get(str(partition), [])]
        if _fold(kept) != mark:  # type: ignore[arg-type]
            check.problems.append(f"partition {partition}: the file's events do not fold to it")
            continue
        now = await _listed(redis, partition, mark)
        check.events += len(kept)
        first = _first_difference(partition, kept, now)  # type: ignore[arg-type]
        if first is not None:
            check.altered.append(first)
    check.altered.sort(key=lambda a: parse_stream_id(a.position))
    return check


def _first_difference(partition: int, kept: list[Listed], now: list[Listed]) -> Altered | None:
    for index, was in enumerate(kept):
        if index >= len(now):
            return Altered(partition, was[0], was[1], was[2], "missing", was[3], "")
        found = now[index]
        if found[0] != was[0]:
            if parse_stream_id(found[0]) < parse_stream_id(was[0]):
                return Altered(partition, found[0], found[1], found[2], "inserted", "", found[3])
            return Altered(partition, was[0], was[1], was[2], "missing", was[3], "")
        if found != was:
            return Altered(partition, was[0], was[1], was[2], "changed", was[3], found[3])
    if len(now) > len(kept):
        extra = now[len(kept)]
        return Altered(partition, extra[0], extra[1], extra[2], "inserted", "", extra[3])
    return None
