"""Read-model writes collected by a projection, committed with the checkpoint in one script."""

from dataclasses import dataclass, field

from redis.exceptions import NoScriptError

from storage.connection import Store
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


@dataclass(frozen=True)
class Commit:
    """A batch of writes for one partition's read model and the checkpoint it moves: from
    `expected` (None: the start of the log) to `new_checkpoint`."""

    keys: ProjectionKeys
    expected: str | None
    new_checkpoint: str
    batch: WriteBatch


async def commit(
    redis: Store,
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
    script_keys, args = _script_call(Commit(keys, expected, new_checkpoint, batch), live)
    return int(await scripts.commit_projection(keys=script_keys, args=args))


async def commit_together(
    redis: Store, scripts: Scripts, commits: list[Commit], *, live: bool
) -> list[int]:
    """`commit` each of `commits` (one script call each, every key of a call in one partition),
    in one round trip; each one's 1, 0 or -1, in order. A call that was applied stays applied
    if a later one fails: sent again, it is refused (0), its checkpoint having moved."""
    calls = [_script_call(one, live) for one in commits]
    script = scripts.commit_projection
    try:
        return await _evalsha_each(redis, script.sha, calls)
    except NoScriptError:  # a restarted server: load it and send again (none of them ran)
        await redis.script_load(script.script)
        return await _evalsha_each(redis, script.sha, calls)


async def _evalsha_each(
    redis: Store, sha: str, calls: list[tuple[list[str], list[str | bytes | int | float]]]
) -> list[int]:
    # EVALSHA by hand: redis-py's pipeline of scripts asks SCRIPT EXISTS first, a round trip
    async with redis.pipeline(transaction=False) as pipe:
        for script_keys, args in calls:
            pipe.evalsha(sha, len(script_keys), *script_keys, *args)
        return [int(result) for result in await pipe.execute()]


def _script_call(one: Commit, live: bool) -> tuple[list[str], list[str | bytes | int | float]]:
    keys = one.keys
    script_keys = [keys.checkpoint, keys.partition.active_generation(keys.name)]
    index: dict[str, int] = {}
    args: list[str | bytes | int | float] = [
        one.expected or "",
        one.new_checkpoint,
        str(keys.generation) if live else "",
        len(one.batch.writes),
    ]
    for write in one.batch.writes:
        if write.key not in index:
            script_keys.append(write.key)
            index[write.key] = len(script_keys)
        args += [write.command, index[write.key], len(write.args), *write.args]
    return script_keys, args
