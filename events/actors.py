"""Who issues a command: an anonymous reader, a signed-in user, a moderator or a service."""

from typing import Literal

from pydantic import BaseModel, ConfigDict

from events.identifiers import ActorId

ActorKind = Literal["anonymous", "user", "service"]


class Actor(BaseModel):
    """The identity behind a command, recorded on every event it causes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: ActorId
    kind: ActorKind = "anonymous"
    moderator: bool = False
