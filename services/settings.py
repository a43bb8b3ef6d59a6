"""All configuration, read once from environment variables (documented in the README)."""

import logging
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from events.decider import DEFAULT_EDIT_WINDOW
from storage.connection import StoreAddress, redis_url


class Limits(BaseModel):
    """A site's abuse limits. Token buckets: so many per minute, with bursts up to the same
    number; 0 means no limit."""

    posts_per_minute_per_ip: Annotated[int, Field(ge=0)] = 30
    posts_per_minute_per_identity: Annotated[int, Field(ge=0)] = 10
    likes_per_minute_per_identity: Annotated[int, Field(ge=0)] = 60
    min_seconds_to_submit: Annotated[float, Field(ge=0)] = 1.5


DEFAULT_LIMITS = Limits()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COMMENTSTREAM_", extra="ignore")

    port: int = Field(default=8000, validation_alias="PORT")
    host: str = "127.0.0.1"
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    # A Redis Cluster's seed nodes, `redis://[user:password@]host:port[,host:port...]`: when
    # set, every process uses the cluster (and REDIS_URL is not used).
    redis_cluster_url: str | None = Field(default=None, validation_alias="REDIS_CLUSTER_URL")
    # After each append the processor waits (WAIT) until this many replicas have it, before it
    # answers; 0: it answers at once (an acknowledged write may be lost with a failover).
    ack_replicas: int = Field(default=0, ge=0, le=16)
    ack_timeout_ms: int = Field(default=1000, ge=1, le=60_000)
    data_dir: Path = Path("data")
    partitions: int = Field(default=8, ge=1, le=1024)
    # The partitions a processor or projector process takes, e.g. "0,3,6" or "0-3" (unset:
    # all): on a cluster, a process per shard (`commentstream cluster status` lists each
    # shard's), so that the processes scale out with the masters.
    own_partitions: str | None = None
    secret: str = "change-me-in-production"
    edit_window_seconds: int = int(DEFAULT_EDIT_WINDOW.total_seconds())
    write_timeout_seconds: float = 3.0
    read_wait_seconds: float = 2.0
    outcome_ttl_seconds: int = 7 * 24 * 3600
    claim_idle_ms: int = 30_000
    # A consumer of a group (a processor, the webhook service) idle this long with nothing
    # pending is removed from the group: its process is gone (restarts make new consumers).
    consumer_grace_seconds: float = Field(default=24 * 3600.0, gt=0)
    max_deliveries: int = 5
    batch_size: int = 200
    batch_linger_ms: float = Field(default=0.0, ge=0, le=1000)
    # The moderation projector reads the log at most this often: its readers (the console,
    # which polls every 2 s; bans and `first_time` in the processor) need no millisecond
    # freshness, and reading a busy log in bigger batches costs it a fraction of the CPU.
    moderation_pace_ms: float = Field(default=100.0, ge=0, le=5000)
    gateway_workers: int = Field(default=1, ge=1, le=64)
    live_streams_per_process: int = Field(default=10_000, ge=0)
    live_streams_per_address: int = Field(default=20, ge=0)
    live_buffer: int = Field(default=64, ge=1)  # messages a live reader may lag behind
    replay_workers: int = Field(default=0, ge=0, le=256)  # processes for replay; 0: one per core
    # Signed digests of the log (events/digest.py): the processor signs with this Ed25519 key,
    # kept outside Redis; unset: no digests. `commentstream up` makes one in data_dir.
    signing_key_file: Path | None = None
    digest_seconds: float = Field(default=10.0, gt=0)  # a digest at least this often, if new
    digest_events: int = Field(default=10_000, ge=1)  # or as soon as this many events are new
    # Webhooks (services/webhooks): the delay before each attempt (the first, then each
    # retry), seconds; an endpoint is disabled after this many failed attempts in a row.
    webhook_schedule: str = "0,5,300,1800,7200,18000,36000"
    webhook_disable_after: int = Field(default=20, ge=1)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_concurrency: int = Field(default=16, ge=1)
    webhooks_allow_private: bool = False  # loopback and private targets (tests only)
    allowed_origins: str = "*"
    public_url: str | None = None
    # Seed the demo thread: None (unset) means no; `commentstream up` on its embedded server
    # sets it for its children unless it is set.
    demo: bool | None = None
    admin_key: str | None = None
    deployment: str | None = None
    sites_file: str | None = None
    sites: str | None = None
    # The default site's moderation policy as JSON (the keys of `[sites.NAME.moderation]`);
    # other sites start from it, but for its moderators.
    moderation: str | None = None
    trusted_proxies: str = ""
    # The default site's limits, one variable each (COMMENTSTREAM_POSTS_PER_MINUTE_PER_IP, ...).
    posts_per_minute_per_ip: int = DEFAULT_LIMITS.posts_per_minute_per_ip
    posts_per_minute_per_identity: int = DEFAULT_LIMITS.posts_per_minute_per_identity
    likes_per_minute_per_identity: int = DEFAULT_LIMITS.likes_per_minute_per_identity
    min_seconds_to_submit: float = DEFAULT_LIMITS.min_seconds_to_submit

    @model_validator(mode="after")
    def _owned_partitions_exist(self) -> "Settings":
        self.owned_partitions  # noqa: B018 (refused at start, naming the variable)
        return self

    @property
    def owned_partitions(self) -> list[int]:
        """COMMENTSTREAM_OWN_PARTITIONS as partition numbers, in order; all when unset."""
        if not self.own_partitions:
            return list(range(self.partitions))
        owned: set[int] = set()
        for part in self.own_partitions.split(","):
            first, _, last = part.strip().partition("-")
            if not first.isdigit() or (last and not last.isdigit()):
                raise ValueError(f"COMMENTSTREAM_OWN_PARTITIONS: {part!r} is not p or p-q")
            owned.update(range(int(first), int(last or first) + 1))
        if not owned or max(owned) >= self.partitions:
            raise ValueError(
                f"COMMENTSTREAM_OWN_PARTITIONS: partitions are 0 to {self.partitions - 1}"
            )
        return sorted(owned)

    @property
    def webhook_schedule_seconds(self) -> list[float]:
        return [float(delay) for delay in self.webhook_schedule.split(",") if delay.strip()]

    @property
    def store(self) -> StoreAddress:
        """Where the store is: REDIS_CLUSTER_URL if set, else REDIS_URL."""
        if self.redis_cluster_url:
            return StoreAddress(self.redis_cluster_url, cluster=True)
        return StoreAddress(redis_url(self.redis_url))

    @property
    def edit_window(self) -> timedelta:
        """How long an anonymous author may edit or delete their comment."""
        return timedelta(seconds=self.edit_window_seconds)

    @property
    def limits(self) -> Limits:
        return Limits.model_validate(self.model_dump(include=set(Limits.model_fields)))

    @property
    def proxies(self) -> list[str]:
        return [proxy.strip() for proxy in self.trusted_proxies.split(",") if proxy.strip()]

    @property
    def origins(self) -> list[str]:
        return [origin.strip() for origin in self.allowed_origins.split(",") if origin.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def settings_for_a_process() -> Settings:
    """The settings, with logging set up the one way every commentstream process logs."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return get_settings()
