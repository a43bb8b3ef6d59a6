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
        policy = ModerationPolicy.model_validate_json(settings.moderation or "{}")
        default = Site(
            name="default", origins=settings.origins, limits=settings.limits, moderation=policy
        )
        inherited = policy.model_dump(exclude={"moderators"})
        configured = {
            name: Site.model_validate(
                {"name": name, "limits": default.limits}
                | values
                | {"moderation": inherited | _table(values.get("moderation"))}
            )
            for name, values in raw.items()
        }
        return cls(configured, default)


def _table(value: object) -> dict[str, object]:
    """A site's `moderation` table, if it has one."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"a site's moderation must be a table, not {value!r}")
    return dict(value)
