"""The spam score end to end on a real server: verdicts in the log, `commentstream spam train`,
and the processor's next posts scored and held by it."""

import json
from datetime import timedelta

from redis.asyncio import Redis

from events.actors import Actor
from events.commands import ApproveComment, MarkSpam, PostComment
from events.moderation import ModerationPolicy
from services.processor.command_handler import CommandHandler
from services.processor.moderation_inputs import ModerationInputs, SpamModels
from services.settings import Settings
from storage.event_store import EventStore
from storage.key_vault import AuthorKeyVault
from tests.integration.world import cli
from tests.spam_corpus import corpus

EDITOR = Actor(id="service:admin", kind="service", moderator=True)


async def test_a_trained_model_holds_spam_and_publishes_the_rest(
    redis: Redis, settings: Settings, thread_id: str
) -> None:
    store = EventStore(redis, settings.partitions, 3600)
    vault = AuthorKeyVault(redis, settings.secret)
    handler = CommandHandler(
        store,
        vault,
        timedelta(minutes=15),
        ModerationInputs(
            lambda site: ModerationPolicy(mode="pre", max_links=0, duplicate="off"),
            b"k",
            spam_models=SpamModels(redis),
        ),
    )
    untrained = cli(settings, "spam", "train", "--site", "default")
    assert untrained.returncode == 1 and "not trained" in untrained.stderr
    for n, (body, is_spam) in enumerate(corpus(20, 120)):
        thread = f"{thread_id}-{n % 6}"
        posted = await handler.handle(
            PostComment(thread=thread, actor=Actor(id=f"anon:{n}"), body=body)
        )
        assert posted.comment_status == "pending" and posted.held_for == ("pre",)
        verdict = MarkSpam if is_spam else ApproveComment
        decided = await handler.handle(
            verdict(thread=thread, actor=EDITOR, comment_id=posted.comment_id or "")
        )
        assert decided.status == "accepted"
    trained = cli(settings, "spam", "train", "--site", "default", "--json")
    assert trained.returncode == 0, trained.stderr
    summary = json.loads(trained.stdout)
    assert summary["published"] + summary["spam"] == 120 and summary["spam"] > 5

    # A processor started now reads the model; the next posts carry their score.
    fresh = CommandHandler(
        store,
        vault,
        timedelta(minutes=15),
        ModerationInputs(
            lambda site: ModerationPolicy(max_links=0, duplicate="off"),
            b"k",
            spam_models=SpamModels(redis),
        ),
    )
    spam = await fresh.handle(
        PostComment(
            thread=thread_id,
            actor=Actor(id="anon:spammer"),
            body="Great post! best online casino bonus, click here https://win7.example",
        )
    )
    assert spam.comment_status == "pending" and spam.held_for == ("spam_score",)
    reader = await fresh.handle(
        PostComment(
            thread=thread_id,
            actor=Actor(id="anon:reader"),
            body="I loved the photos, it rained all week here too.",
        )
    )
    assert reader.comment_status == "approved"
    history = json.loads(cli(settings, "audit", "thread", f"default/{thread_id}", "--json").stdout)
    held = [line["change"] for line in history if line["comment_id"] == spam.comment_id]
    assert "held for moderation: spam_score" in held[0]
