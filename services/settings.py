"""All configuration, read once from environment variables (documented in the README)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COMMENTSTREAM_", extra="ignore")

    port: int = Field(default=8000, validation_alias="PORT")
    host: str = "127.0.0.1"
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    data_dir: Path = Path("data")
    partitions: int = Field(default=8, ge=1, le=1024)
    secret: str = "change-me-in-production"
    edit_window_seconds: int = 15 * 60
    write_timeout_seconds: float = 3.0
    read_wait_seconds: float = 2.0
    outcome_ttl_seconds: int = 7 * 24 * 3600
    claim_idle_ms: int = 30_000
    max_deliveries: int = 5
    batch_size: int = 200
    allowed_origins: str = "*"
    public_url: str | None = None
    admin_key: str | None = None
    deployment: str | None = None

    @property
    def origins(self) -> list[str]:
        return [origin.strip() for origin in self.allowed_origins.split(",") if origin.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
