"""One way to open a connection to the store: one Redis server (REDIS_URL) or a Redis Cluster
(REDIS_CLUSTER_URL, its seed nodes), with commands packed by hiredis."""

import weakref
from dataclasses import dataclass
from typing import TypeAlias, TypeGuard
from urllib.parse import unquote, urlsplit

import hiredis
from redis.asyncio import Redis, RedisCluster
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.connection import (
    Connection,
    SSLConnection,
    UnixDomainSocketConnection,
    parse_url,
)
from redis.exceptions import DataError
from redis.typing import EncodableT

Store: TypeAlias = Redis | RedisCluster
"""A client of the store, whichever its topology: code that works on both uses only what the
two share (no command naming keys of two partitions; `is_cluster` where they differ)."""

CLUSTER_CONNECTIONS_PER_NODE = 1000  # redis-py's 100 raises, not waits, when all are busy


@dataclass(frozen=True)
class StoreAddress:
    """Where the store is: a server's URL, or a cluster's seed nodes
    (`redis://[user:password@]host:port[,host:port...]`)."""

    url: str
    cluster: bool = False


def redis_url(url: str | None) -> str:
    """`url`, which a process needs (REDIS_URL; `commentstream up` sets it for its services)."""
    if not url:
        raise RuntimeError(
            "neither REDIS_URL nor REDIS_CLUSTER_URL is set (commentstream up sets one for its"
            " services)"
        )
    return url


def is_cluster(redis: Store) -> TypeGuard[RedisCluster]:
    return isinstance(redis, RedisCluster)


async def rewrite_append_only_files(redis: Store) -> None:
    """BGREWRITEAOF: on the server, or on every node of a cluster (a replica keeps an append-only
    file too)."""
    if is_cluster(redis):
        await redis.bgrewriteaof(target_nodes=RedisCluster.ALL_NODES)  # type: ignore[call-arg]
    else:
        await redis.bgrewriteaof()


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


def connect(address: StoreAddress | str | None, name: str | None = None) -> Store:
    """A client of the store at `address` (a plain URL: one server), answering text
    (decode_responses). Bytes that are not UTF-8 (a log entry's sealed data) come back as text
    that encodes to exactly those bytes again (`surrogateescape`, see events.log_entry.as_bytes).
    `name` names its connections (CLIENT SETNAME), so that CLIENT LIST says which service holds
    which."""
    if isinstance(address, StoreAddress) and address.cluster:
        return connect_cluster(address.url, name)
    return connect_server(address.url if isinstance(address, StoreAddress) else address, name)


_CLUSTER_ADDRESSES: "weakref.WeakKeyDictionary[RedisCluster, tuple[str, str | None]]" = (
    weakref.WeakKeyDictionary()
)


def connect_cluster(url: str, name: str | None = None) -> RedisCluster:
    """A client of the cluster whose seed nodes `url` lists. It follows MOVED and ASK, and
    learns the slots again after a failover or a resharding (redis-py)."""
    parts = urlsplit(url)
    cluster = RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in cluster_seeds(url)],
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        ssl=parts.scheme == "rediss",
        decode_responses=True,
        encoding_errors="surrogateescape",
        client_name=name,
        max_connections=CLUSTER_CONNECTIONS_PER_NODE,
    )
    # Commands packed by hiredis on every node's connections, as on one server: the nodes the
    # client discovers are made from its connection_kwargs, the seeds already were.
    packing = HiredisSSLConnection if parts.scheme == "rediss" else HiredisConnection
    cluster.connection_kwargs["connection_class"] = packing
    for seed in cluster.startup_nodes:
        seed.connection_class = packing
    _CLUSTER_ADDRESSES[cluster] = (url, name)
    return cluster


def cluster_seeds(url: str) -> list[tuple[str, int]]:
    """The (host, port) of each seed node a cluster URL lists."""
    seeds = []
    for seed in urlsplit(url).netloc.rpartition("@")[2].split(","):
        host, _, port = seed.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"REDIS_CLUSTER_URL: {seed!r} is not host:port")
        seeds.append((host.strip("[]"), int(port)))
    return seeds


def another_cluster_client(cluster: RedisCluster) -> RedisCluster:
    """A new client of the same cluster, with connections of its own."""
    url, name = _CLUSTER_ADDRESSES[cluster]
    return connect_cluster(url, name)


def connect_server(url: str | None, name: str | None = None) -> Redis:
    """A client of the one server at `url`."""
    url = redis_url(url)
    redis = Redis.from_url(
        url, decode_responses=True, encoding_errors="surrogateescape", client_name=name
    )
    # (from_url lets the URL's own class win over a connection_class argument)
    redis.connection_pool.connection_class = connection_class(url)
    return redis
