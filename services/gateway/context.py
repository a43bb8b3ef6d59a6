"""What every request handler of the gateway needs, built once per process."""

from dataclasses import dataclass

from services.gateway.abuse import RateLimiter
from services.gateway.identity import TokenSigner
from services.gateway.live_hub import LiveHub
from services.gateway.read_models import ReadModels
from services.settings import Settings
from services.sites import Sites
from storage.command_sender import CommandSender
from storage.connection import Store
from storage.deployment import DeploymentGuard
from storage.event_store import EventStore
from storage.key_vault import AuthorKeyVault


@dataclass
class Gateway:
    settings: Settings
    redis: Store
    store: EventStore
    sender: CommandSender
    reads: ReadModels
    signer: TokenSigner
    vault: AuthorKeyVault
    guard: DeploymentGuard
    sites: Sites
    limiter: RateLimiter
    live: LiveHub
