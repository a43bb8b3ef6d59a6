"""For a subscriber that keeps its own position (in its own database, next to what it built):
the last event it handled in each partition, as the `start` of its next subscription."""

import json
from dataclasses import dataclass, field

from storage.stream_entries import is_after


@dataclass
class Checkpoint:
    positions: dict[int, str] = field(default_factory=dict)

    def advance(self, partition: int, position: str) -> None:
        """Remember `position` in `partition`, unless it already is further."""
        current = self.positions.get(partition)
        if current is None or is_after(position, current):
            self.positions[partition] = position

    def covers(self, partition: int, position: str) -> bool:
        """Whether `position` in `partition` is at or before the checkpoint (handled already:
        a delivery again, after a crash between handling and acknowledging)."""
        current = self.positions.get(partition)
        return current is not None and not is_after(position, current)

    def to_json(self) -> str:
        return json.dumps({str(p): position for p, position in sorted(self.positions.items())})

    @classmethod
    def from_json(cls, raw: str) -> "Checkpoint":
        return cls({int(p): str(position) for p, position in json.loads(raw).items()})
