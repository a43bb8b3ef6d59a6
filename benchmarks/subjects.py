"""What the suite asks of a system under test: the same operations, each system's own requests."""

from collections.abc import Sequence
from typing import Protocol

from benchmarks.loadgen import Request, Response

# The memory target's comment: 300 characters (every comment the suite writes is one of these).
BODY_300 = ("A comment of three hundred characters, as the memory target asks. " * 5)[:300]


class Subject(Protocol):
    """A comment system the suite loads: request builders and a few hooks."""

    name: str
    base_url: str

    def new_comment(self, thread: str, body: str) -> Request:
        """A new top-level comment on `thread` (the thread is made by its first comment)."""
        ...

    def comment_id(self, response: Response) -> str:
        """The new comment's id from a 201 answer to `new_comment`."""
        ...

    async def prepare_likers(self, count: int) -> None:
        """Make `count` distinct users ready to like (tokens, addresses)."""
        ...

    def like(self, thread: str, comment_id: str, liker: int) -> Request:
        """User number `liker` likes a comment."""
        ...

    def whole_thread(self, thread: str) -> Request:
        """The whole thread (up to 1,000 top-level comments with their replies)."""
        ...

    def first_page(self, thread: str) -> Request:
        """The first page a reader sees: 50 top-level comments."""
        ...

    def counts(self, threads: Sequence[str]) -> Request:
        """Comment counts of several threads in one request."""
        ...

    async def settle(self) -> None:
        """Wait until everything written so far is visible to readers."""
        ...

    async def memory_bytes(self) -> int:
        """The bytes the system's store holds now."""
        ...

    def process_ids(self) -> dict[str, int]:
        """Every process of the system (its store included) by name, for its CPU time."""
        ...
