"""Fill the demo thread with the seed's comments and likes, through real commands.

Runs in the background when a gateway starts and the demo thread has not been seeded yet.
Every command has a fixed id, so two gateways starting together, or a restart halfway, never
post anything twice.
"""

import asyncio
import logging

from events.actors import Actor
from events.commands import Command, LikeComment, PostComment
from events.personal import AuthorDetails
from services.gateway.demo.content import COMMENTS, THREAD, TITLE
from storage.command_sender import CommandSender
from storage.event_store import EventStore
from storage.keys import demo_seeded

logger = logging.getLogger("commentstream.demo")
POLL_SECONDS = 0.5


async def seed_demo(store: EventStore, sender: CommandSender, site: str, url: str | None) -> None:
    marker = demo_seeded(site, THREAD)
    if await store.redis.exists(marker):
        return
    if (await store.load_state(site, THREAD)).version > 0 and not await sender.status(
        "demo-post-0"
    ):
        return  # someone else's thread of that name: leave it alone
    for number, seed in enumerate(COMMENTS):
        post = PostComment(
            command_id=f"demo-post-{number}",
            site=site,
            thread=THREAD,
            actor=Actor(id=f"anon:demo-author-{number}"),
            body=seed.body,
            author=AuthorDetails(name=seed.name),
            title=TITLE,
            url=url,
        )
        comment_id = await _until_processed(sender, post)
        for reader in range(seed.likes):
            like = LikeComment(
                command_id=f"demo-like-{number}-{reader}",
                site=site,
                thread=THREAD,
                actor=Actor(id=f"anon:demo-reader-{reader}"),
                comment_id=comment_id,
            )
            await _until_processed(sender, like)
    await store.redis.set(marker, "1")
    logger.info("demo thread %s/%s seeded", site, THREAD)


async def _until_processed(sender: CommandSender, command: Command) -> str:
    outcome = await sender.send(command)
    while outcome is None:  # queued: the processor is not there yet
        await asyncio.sleep(POLL_SECONDS)
        status = await sender.status(command.command_id)
        outcome = None if isinstance(status, str) or status is None else status
    if outcome.status != "accepted" or outcome.comment_id is None:
        raise RuntimeError(f"demo seeding: {command.type} was {outcome.status} ({outcome.code})")
    return outcome.comment_id
