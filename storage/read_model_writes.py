"""Read-model writes collected by a projection, committed with the checkpoint in one script."""

from dataclasses import dataclass, field

from redis.asyncio import Redis

from storage.keys import ProjectionKeys
from storage.scripts import MAX_VALUES_PER_CALL, Scripts


@dataclass(frozen=True)
class Write:
    """One Redis command of the allowed set (HSET, HDEL, HINCRBY, ZADD, ZREM, DEL, XADD)."""

    command: str
    key: str
    args: tuple[str | bytes | int | float, ...] = ()


# Commands whose values may be split into several writes of the same command that together do
# the same (the commit script cannot unpack more than MAX_VALUES_PER_CALL values at once).
SPLITTABLE = frozenset({"HSET", "HDEL", "ZADD", "ZREM"})


@dataclass
class WriteBatch:
    writes: list[Write] = field(default_factory=list)

    def add(self, command: str, key: str, *args: str | bytes | int | float) -> None:
        if command not in SPLITTABLE or len(args) <= MAX_VALUES_PER_CALL:
            self.writes.append(Write(command, key, args))
            return
        for start in range(0, len(args), MAX_VALUES_PER_CALL):
            self.writes.append(Write(command, key, args[start : start + MAX_VALUES_PER_CALL]))


async def commit(
    redis: Redis,
    scripts: Scripts,
    keys: ProjectionKeys,
    expected: str | None,
    new_checkpoint: str,
    batch: WriteBatch,
    *,
    live: bool,
) -> int:
    """Apply `batch` and move the checkpoint, only if it still is `expected` and, when `live`,
    only while `keys.generation` is the active one. Returns 1, or 0 / -1 when refused."""
    partition = keys.partition
    script_keys = [keys.checkpoint, partition.active_generation(keys.name)]
    index: dict[str, int] = {}
    args: list[str | bytes | int | float] = [
        expected or "",
        new_checkpoint,
        str(keys.generation) if live else "",
        len(batch.writes),
    ]
    for write in batch.writes:
        if write.key not in index:
            script_keys.append(write.key)
            index[write.key] = len(script_keys)
        args += [write.command, index[write.key], len(write.args), *write.args]
    return int(await scripts.commit_projection(keys=script_keys, args=args))
