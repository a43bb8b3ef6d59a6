"""Sites: who may embed the comments (origins), their SSO secret, limits and moderation policy.

From COMMENTSTREAM_SITES_FILE (TOML, `[sites.NAME]` tables) and/or COMMENTSTREAM_SITES (the
same as JSON). A site that is not configured gets the defaults of the settings.
"""

import json
import tomllib
from pathlib import Path

from pydantic import BaseModel

from events.moderation import ModerationPolicy
from services.settings import Limits, Settings


class Site(BaseModel):
    name: str
    origins: list[str] = ["*"]
    sso_secret: str | None = None
    limits: Limits = Limits()
    moderation: ModerationPolicy = ModerationPolicy()  # `[sites.NAME.moderation]`

    def allows(self, origin: str) -> bool:
        return "*" in self.origins or origin in self.origins


class Sites:
    def __init__(self, configured: dict[str, Site], default: Site) -> None:
        self._sites = configured
        self._default = default

    def get(self, name: str) -> Site:
        return self._sites.get(name) or self._default.model_copy(update={"name": name})

    @classmethod
    def from_settings(cls, settings: Settings) -> "Sites":
        raw: dict[str, dict[str, object]] = {}
        if settings.sites_file:
            raw |= tomllib.loads(Path(settings.sites_file).read_text()).get("sites", {})
        if settings.sites:
            raw |= json.loads(settings.sites)
        default = Site(name="default", origins=settings.origins, limits=settings.limits)
        configured = {
            name: Site.model_validate({"name": name, "limits": default.limits} | values)
            for name, values in raw.items()
        }
        return cls(configured, default)
