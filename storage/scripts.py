"""Every Lua script of commentstream, registered once per client and run by SHA.

Each script touches only keys of one partition (the `{p}` hash tag), so it runs unchanged on
Redis Cluster. Each starts with a Redis 7 shebang: `#!lua` for one that writes (never with
`allow-oom`), so that a server at `maxmemory` refuses it before its first command rather than
at a write half-way through; `#!lua flags=no-writes` for one that only reads (it runs at
`maxmemory` too, and on replicas).
"""

import hashlib
from typing import Any

from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from storage.connection import Store

# Redis's Lua unpacks at most about 8,000 values into one call, so a write of more values is
# made in several calls of at most this many (an even number: field/value pairs stay whole).
# COMMIT_PROJECTION's writes are split by storage/read_model_writes.py.
MAX_VALUES_PER_CALL = 4_000

# KEYS: 1 thread state hash, 2 partition log, 3 thread history, 4 outcome record,
#       5 outcome stream, 6 command stream, 7 the actor's threads (set)
# ARGV: 1 expected version ('' for an outcome not decided on a thread's state: a parked
#       command), 2 new version, 3 new head hash, 4 number of state fields to write,
#       5 outcome JSON without its command id and closing brace, 6 outcome TTL (s), 7 outcome
#       stream max length ('0': the caller publishes the outcome itself, once replicated),
#       8 writer group, 9 command entry id ('' when not read from the command stream),
#       10 the thread (`site/thread`, a member of the actor's threads), 11 number of
#       events, 12 the command id as a JSON member (`"command_id":"…"`), 13.. three values per
#       event (its v2 entry's `e`, `h` and `p`, '' for no `p`: see events/log_entry.py), then
#       the state's field/value pairs (storage/thread_state.py)
# The outcome record (KEYS[4], named by the command id) keeps the outcome without its command
# id; the stream and the caller get it whole.
# Returns {'ok', outcome} | {'duplicate', first outcome} | {'conflict', current version}.
APPEND_EVENTS = """#!lua
local function whole(record)
  if string.sub(record, 1, 14) == '{"command_id":' then return record end  -- kept whole before
  return '{' .. ARGV[12] .. ',' .. string.sub(record, 2)
end
local function finish(outcome)
  if ARGV[7] ~= '0' then
    redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[7], '*', 'outcome', outcome)
  end
  if ARGV[9] ~= '' then
    redis.call('XACK', KEYS[6], ARGV[8], ARGV[9])
    redis.call('XDEL', KEYS[6], ARGV[9])
  end
end
local first = redis.call('GET', KEYS[4])
if first then
  first = whole(first)
  finish(first)
  return {'duplicate', first}
end
local count = tonumber(ARGV[11])
local expected = tonumber(ARGV[1])
-- A rejection is checked too: decided on a stale state, it could be wrong for good.
if expected then
  local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
  if version ~= expected then
    return {'conflict', tostring(version)}
  end
end
local position = nil
for i = 1, count do
  local at = 10 + 3 * i
  if ARGV[at + 2] == '' then
    position = redis.call('XADD', KEYS[2], '*', 'e', ARGV[at], 'h', ARGV[at + 1])
  else
    position = redis.call('XADD', KEYS[2], '*', 'e', ARGV[at], 'h', ARGV[at + 1], 'p', ARGV[at + 2])
  end
  redis.call('XADD', KEYS[3], '0-' .. (expected + i), 'position', position)
end
if count > 0 then
  local fields = {'version', ARGV[2], 'head', ARGV[3]}
  local first = 13 + 3 * count
  for i = first, first - 1 + 2 * tonumber(ARGV[4]) do fields[#fields + 1] = ARGV[i] end
  redis.call('HSET', KEYS[1], unpack(fields))
  redis.call('SADD', KEYS[7], ARGV[10])
end
local record = ARGV[5]
if position then
  record = record .. ',"position":"' .. position .. '"'
end
record = record .. '}'
redis.call('SET', KEYS[4], record, 'EX', ARGV[6])
local outcome = whole(record)
finish(outcome)
return {'ok', outcome}
"""

# Writes a projection's read model and its checkpoint in one step, only if the checkpoint is
# still the one the batch was computed from (so a duplicate delivery changes nothing) and, for
# the live projector, only while its generation is the active one (a replay may have switched).
# KEYS: 1 checkpoint, 2 active generation pointer, 3.. keys the operations name by index
# ARGV: 1 expected checkpoint ('' for none), 2 new checkpoint, 3 generation that must be
#       active ('' when building a new generation), 4 number of operations, then per
#       operation: command, key index, argument count, arguments...
# Returns 1 when written, 0 when the checkpoint had moved, -1 when the generation is not active.
COMMIT_PROJECTION = """#!lua
if ARGV[3] ~= '' and (redis.call('GET', KEYS[2]) or '0') ~= ARGV[3] then
  return -1
end
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then
  return 0
end
local allowed = {HSET=true, HDEL=true, HINCRBY=true, ZADD=true, ZREM=true, DEL=true, XADD=true}
local count = tonumber(ARGV[4])
-- Every operation is checked before the first is made: a commit is applied whole or not at all.
local at = 5
for _ = 1, count do
  if not allowed[ARGV[at]] then
    return redis.error_reply('operation not allowed: ' .. ARGV[at])
  end
  at = at + 3 + tonumber(ARGV[at + 2])
end
at = 5
for _ = 1, count do
  local argc = tonumber(ARGV[at + 2])
  redis.call(ARGV[at], KEYS[tonumber(ARGV[at + 1])], unpack(ARGV, at + 3, at + 2 + argc))
  at = at + 3 + argc
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""

# Points readers (and the live projector) of one partition at a newly built generation, but
# only once it has read at least as far as the generation it replaces.
# KEYS: 1 active generation pointer, 2 old generation's checkpoint, 3 new generation's checkpoint
# ARGV: 1 old generation, 2 new generation
# Returns 1 when switched, 0 when the new one is behind, -1 when the old one is no longer active.
SWITCH_GENERATION = """#!lua
local function position(id)
  if not id then return -1, -1 end
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then
  return -1
end
local old_ms, old_seq = position(redis.call('GET', KEYS[2]))
local new_ms, new_seq = position(redis.call('GET', KEYS[3]))
if new_ms < old_ms or (new_ms == old_ms and new_seq < old_seq) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""


# One page of a thread view in one round trip: top-level comments after a cursor, their
# descendant lists, and the public fragment and like count of every comment shown.
# Run with EVALSHA_RO, so a user with read-only access to the read models may run it.
# KEYS: 1 roots (sorted set), 2 replies (hash), 3 public fragments (hash), 4 like counts (hash),
#       5 thread meta (hash)
# ARGV: 1 'asc' | 'desc' | 'ids', 2 the last top-level comment already shown ('' for none),
#       3 how many top-level comments, then for 'ids' the top-level comment ids themselves
# Returns {meta as HGETALL, roots, descendant lists, fragments, like counts}; the last two
# follow the order of the roots, then of the pairs in each descendant list.
READ_PAGE = """#!lua flags=no-writes
local meta = redis.call('HGETALL', KEYS[5])
local roots
if ARGV[1] == 'ids' then
  roots = {}
  for i = 4, #ARGV do roots[#roots + 1] = ARGV[i] end
else
  local start = 0
  if ARGV[2] ~= '' then
    local rank
    if ARGV[1] == 'asc' then
      rank = redis.call('ZRANK', KEYS[1], ARGV[2])
    else
      rank = redis.call('ZREVRANK', KEYS[1], ARGV[2])
    end
    if not rank then return {meta, {}, {}, {}, {}} end
    start = rank + 1
  end
  local stop = start + tonumber(ARGV[3]) - 1
  if ARGV[1] == 'asc' then
    roots = redis.call('ZRANGE', KEYS[1], start, stop)
  else
    roots = redis.call('ZREVRANGE', KEYS[1], start, stop)
  end
end
if #roots == 0 then return {meta, {}, {}, {}, {}} end
local descendants = redis.call('HMGET', KEYS[2], unpack(roots))
local ids = {}
for i = 1, #roots do ids[i] = roots[i] end
for _, list in ipairs(descendants) do
  if list then
    for child in string.gmatch(list, '([^,:]+):[^,]+') do ids[#ids + 1] = child end
  end
end
local fragments, likes = {}, {}
for first = 1, #ids, 1000 do
  local chunk = {unpack(ids, first, math.min(first + 999, #ids))}
  local found = redis.call('HMGET', KEYS[3], unpack(chunk))
  for _, v in ipairs(found) do fragments[#fragments + 1] = v end
  found = redis.call('HMGET', KEYS[4], unpack(chunk))
  for _, v in ipairs(found) do likes[#likes + 1] = v end
end
return {meta, roots, descendants, fragments, likes}
"""


# Appends a signed digest, only after the one it was made from (two signers cannot fork the
# chain of digests: the second one's append is refused, and it starts again from the first's).
# KEYS: 1 the digest stream.  ARGV: 1 the seq of the digest it follows ('0' for none),
#       2 its own seq, 3 its body (JSON), 4 its signature (hex)
# Returns 1 when appended, 0 when another digest came first.
APPEND_DIGEST = """#!lua
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local seq = '0'
if last then
  for i = 1, #last[2], 2 do
    if last[2][i] == 'seq' then seq = last[2][i + 1] end
  end
end
if seq ~= ARGV[1] then
  return 0
end
redis.call('XADD', KEYS[1], '*', 'seq', ARGV[2], 'digest', ARGV[3], 'signature', ARGV[4])
return 1
"""


# A token bucket: `capacity` tokens, refilled at `per_ms` tokens a millisecond, on Redis's clock.
# KEYS: 1 the bucket hash.  ARGV: 1 capacity, 2 tokens per ms, 3 idle expiry (ms)
# Returns {1, 0} when a token was taken, {0, ms until one is available} when not.
TAKE_TOKEN = """#!lua
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or capacity
local at = tonumber(bucket[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
if tokens < 1 then
  return {0, math.ceil((1 - tokens) / rate)}
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'at', now)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, 0}
"""


# Does nothing: a server at `maxmemory` refuses any script that may write before it starts, so
# running this tells whether the store can take a write now, without writing one (/readyz).
# Returns 1.
CAN_WRITE = """#!lua
return 1
"""


class Scripts:
    """The scripts registered on one client."""

    def __init__(self, redis: Store) -> None:
        self.can_write: AsyncScript = redis.register_script(CAN_WRITE)
        self.append_events: AsyncScript = redis.register_script(APPEND_EVENTS)
        self.commit_projection: AsyncScript = redis.register_script(COMMIT_PROJECTION)
        self.switch_generation: AsyncScript = redis.register_script(SWITCH_GENERATION)
        self.take_token: AsyncScript = redis.register_script(TAKE_TOKEN)
        self.append_digest: AsyncScript = redis.register_script(APPEND_DIGEST)
        self.read_page = ReadOnlyScript(redis, READ_PAGE)


class ReadOnlyScript:
    """A script that only reads, run with EVALSHA_RO (loaded again after a server restart)."""

    def __init__(self, redis: Store, source: str) -> None:
        self._redis = redis
        self._source = source
        self._sha = hashlib.sha1(source.encode()).hexdigest()

    async def __call__(self, keys: list[str], args: list[str | int]) -> Any:
        try:
            return await self._redis.evalsha_ro(self._sha, len(keys), *keys, *args)
        except NoScriptError:
            await self._redis.script_load(self._source)
            return await self._redis.evalsha_ro(self._sha, len(keys), *keys, *args)
