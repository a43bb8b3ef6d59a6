"""Helpers for tests that drive the system through commands and the `commentstream` CLI."""

import asyncio
import subprocess

from events.actors import Actor
from events.commands import (
    Command,
    DeleteComment,
    EditComment,
    LikeComment,
    PostComment,
    Reply,
    UnlikeComment,
)
from events.decider import DEFAULT_EDIT_WINDOW
from events.outcomes import Outcome
from projections.registry import PROJECTIONS
from services.processor.command_handler import CommandHandler
from services.projector.runner import ProjectorRunner
from services.settings import Settings
from storage.connection import Store, StoreAddress
from storage.event_store import EventStore
from storage.key_vault import AuthorKeyVault
from storage.keys import PartitionKeys
from tests.conftest import TEST_PARTITIONS
from tests.processes import run_cli, store_env

ALICE = Actor(id="anon:alice")
BOB = Actor(id="anon:bob")
CAROL = Actor(id="anon:carol")


def cli(
    settings: Settings, *args: str, store: StoreAddress | None = None
) -> subprocess.CompletedProcess[str]:
    """`commentstream ARGS` against the test's store (or `store`), whichever its topology."""
    env = {
        **store_env(store or settings.store),
        "COMMENTSTREAM_PARTITIONS": str(TEST_PARTITIONS),
        "COMMENTSTREAM_SECRET": settings.secret,
    }
    return run_cli(list(args), env, timeout=120)


class World:
    """Commands through the real decide/seal/append path, and projections caught up on demand."""

    def __init__(self, redis: Store, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings
        self.store = EventStore(redis, settings.partitions, 3600)
        self.vault = AuthorKeyVault(redis, settings.secret)
        self.handler = CommandHandler(self.store, self.vault, DEFAULT_EDIT_WINDOW)

    async def do(self, command: Command) -> Outcome:
        outcome = await self.handler.handle(command)
        assert outcome.status == "accepted", outcome
        return outcome

    async def project(self, redis: Store | None = None) -> None:
        redis = redis or self.redis
        vault = AuthorKeyVault(redis, self.settings.secret)
        runners = [ProjectorRunner(redis, make(redis, vault)) for make in PROJECTIONS.values()]
        for p in range(self.settings.partitions):
            keys = PartitionKeys(p)
            for runner in runners:
                await runner.fold_log(keys)

    async def discussion(self, thread: str) -> dict[str, str]:
        """Alice posts, Bob replies, Alice edits, Carol likes and unlikes, Bob deletes his reply."""
        first = await self.do(
            PostComment(
                thread=thread,
                actor=ALICE,
                body="Alice's *secret* thoughts",
                title="T",
                author={
                    "name": "Alice Private",
                    "email": "alice@private.example",  # type: ignore[arg-type]
                    "website": "https://alice-private.example",
                },
            )
        )
        reply = await self.do(
            Reply(
                thread=thread,
                actor=BOB,
                body="Bob answers",
                parent_id=first.comment_id or "",
                author={"name": "Bob"},
            )
        )  # type: ignore[arg-type]
        await self.do(
            Reply(
                thread=thread,
                actor=CAROL,
                body="Carol answers Alice",
                parent_id=first.comment_id or "",
            )
        )
        # The log's clock has millisecond steps: the edit must come a step after the replies,
        # or "the thread as it was after the replies" (audit --at) would include it.
        await asyncio.sleep(0.003)
        await self.do(
            EditComment(
                thread=thread,
                actor=ALICE,
                comment_id=first.comment_id or "",
                body="Alice's edited thoughts",
            )
        )
        await self.do(LikeComment(thread=thread, actor=CAROL, comment_id=first.comment_id or ""))
        await self.do(UnlikeComment(thread=thread, actor=CAROL, comment_id=first.comment_id or ""))
        await self.do(LikeComment(thread=thread, actor=BOB, comment_id=first.comment_id or ""))
        await self.do(DeleteComment(thread=thread, actor=BOB, comment_id=reply.comment_id or ""))
        return {"first": first.comment_id or "", "reply": reply.comment_id or ""}
