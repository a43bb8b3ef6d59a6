"""Keys named before partitions had spread hash tags (`cs:{3}:events`, up to issue 16) given
today's names (`cs:{3.68317}:events`, storage/keys.py), on one server, while no service runs.

`commentstream up` does it before it starts its services; `commentstream rename-keys` does it
for a deployment run otherwise. A service refuses to start while keys of the old form remain,
rather than start an empty log beside the old one.
"""

import re
from collections.abc import AsyncIterator

from storage.connection import Store
from storage.keys import PREFIX, PartitionKeys

_OLD_FORM = re.compile(r"^cs:\{(\d+)\}:(.*)$", re.DOTALL)
_OLD_PATTERN = f"{PREFIX}:{{[0-9]*}}:*"  # also matches today's `{3.68317}`: filtered below

OLD_KEYS_MESSAGE = (
    "this server holds keys named before partitions had spread hash tags ({example}): stop "
    "every service and run `commentstream rename-keys` (commentstream up does it by itself)"
)


class OldKeyNames(RuntimeError):
    pass


def today_name(old: str) -> str | None:
    """The name `old` has today, or None if it is not a key of the old form."""
    matched = _OLD_FORM.match(old)
    if matched is None:
        return None
    return f"{PartitionKeys(int(matched.group(1))).tag}:{matched.group(2)}"


async def old_keys(redis: Store) -> AsyncIterator[str]:
    async for key in redis.scan_iter(match=_OLD_PATTERN, count=1000):
        if today_name(key) is not None:
            yield key


async def refuse_old_keys(redis: Store, partitions: int) -> None:
    """Raise OldKeyNames if the server holds the old form of a partition's command stream (made
    by the first processor of every deployment, so present wherever old data is)."""
    async with redis.pipeline(transaction=False) as pipe:
        for p in range(partitions):
            pipe.exists(f"{PREFIX}:{{{p}}}:commands")
        found = await pipe.execute()
    if any(found):
        example = f"{PREFIX}:{{{found.index(1)}}}:commands"
        raise OldKeyNames(OLD_KEYS_MESSAGE.format(example=example))


async def rename_old_keys(redis: Store) -> int:
    """Rename every key of the old form; how many. A key whose new name is taken is an error
    (two deployments mixed on one server), raised before anything else is renamed."""
    renames = [(key, today_name(key) or key) async for key in old_keys(redis)]
    async with redis.pipeline(transaction=False) as pipe:
        for _, new in renames:
            pipe.exists(new)
        taken = [
            new for (_, new), exists in zip(renames, await pipe.execute(), strict=True) if exists
        ]
    if taken:
        raise OldKeyNames(f"cannot rename: {taken[0]} exists already ({len(taken)} such keys)")
    async with redis.pipeline(transaction=False) as pipe:
        for old, new in renames:
            pipe.renamenx(old, new)
        await pipe.execute()
    return len(renames)
