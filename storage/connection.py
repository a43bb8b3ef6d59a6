"""One way to open a Redis connection: from a URL, with commands packed by hiredis."""

import hiredis
from redis.asyncio import Redis
from redis.asyncio.connection import (
    Connection,
    SSLConnection,
    UnixDomainSocketConnection,
    parse_url,
)
from redis.exceptions import DataError
from redis.typing import EncodableT


def redis_url(url: str | None) -> str:
    """`url`, which a process needs (REDIS_URL; `commentstream up` sets it for its services)."""
    if not url:
        raise RuntimeError("REDIS_URL is not set (commentstream up sets it for its services)")
    return url


class _HiredisPacking:
    """Commands packed into the wire protocol by hiredis, in C: redis-py's asyncio connection
    packs them in Python (its blocking one already uses hiredis), several times slower, which
    shows in big projection commits and replays (docs/benchmarks.md)."""

    def pack_command(self, *args: EncodableT) -> list[bytes]:
        # As redis-py: a command name given as one string ("CONFIG GET") is split in words.
        if isinstance(args[0], str):
            args = tuple(args[0].encode().split()) + args[1:]
        elif isinstance(args[0], bytes) and b" " in args[0]:
            args = tuple(args[0].split()) + args[1:]
        packable = []
        for arg in args:
            if isinstance(arg, bool) or arg is None:  # redis-py refuses these too
                raise DataError(f"Invalid input of type: {type(arg).__name__!r}")
            packable.append(bytes(arg) if isinstance(arg, bytearray | memoryview) else arg)
        try:
            return [hiredis.pack_command(tuple(packable))]  # type: ignore[arg-type]
        except UnicodeEncodeError:
            # text read back with surrogate escapes (bytes that are not UTF-8) goes back as
            # those bytes, as redis-py's own encoder with encoding_errors="surrogateescape" does
            escaped = [
                a.encode("utf-8", "surrogateescape") if isinstance(a, str) else a for a in packable
            ]
            return [hiredis.pack_command(tuple(escaped))]  # type: ignore[arg-type]
        except TypeError as error:
            raise DataError(str(error)) from error


class HiredisConnection(_HiredisPacking, Connection):
    pass


class HiredisSSLConnection(_HiredisPacking, SSLConnection):
    pass


class HiredisUnixConnection(_HiredisPacking, UnixDomainSocketConnection):
    pass


_HIREDIS_PACKING: dict[type[Connection], type[Connection]] = {
    Connection: HiredisConnection,
    SSLConnection: HiredisSSLConnection,
    UnixDomainSocketConnection: HiredisUnixConnection,
}


def connection_class(url: str) -> type[Connection]:
    """The connection class `url` asks for (TCP, TLS or a Unix socket), packing with hiredis."""
    chosen = parse_url(url).get("connection_class", Connection)
    return _HIREDIS_PACKING.get(chosen, chosen)


def connect(url: str | None, name: str | None = None) -> Redis:
    """A client of the server at `url`, answering text (decode_responses). Bytes that are not
    UTF-8 (a log entry's sealed data) come back as text that encodes to exactly those bytes
    again (`surrogateescape`, see events.log_entry.as_bytes). `name` names its connections
    (CLIENT SETNAME), so that CLIENT LIST says which service holds which."""
    url = redis_url(url)
    redis = Redis.from_url(
        url, decode_responses=True, encoding_errors="surrogateescape", client_name=name
    )
    # (from_url lets the URL's own class win over a connection_class argument)
    redis.connection_pool.connection_class = connection_class(url)
    return redis
