"""Imports from WordPress (WXR) and Disqus, through `commentstream import` and the decider."""

import json
from pathlib import Path

import pytest
from redis.asyncio import Redis

from projections.moderation.reading import ModerationReader
from projections.names import MODERATION
from services.settings import Settings
from storage.keys import PartitionKeys
from tests.integration.world import World, cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def world(redis: Redis, settings: Settings) -> World:
    return World(redis, settings)


def thread(settings: Settings, site_thread: str) -> dict:  # type: ignore[type-arg]
    result = cli(settings, "audit", "thread", site_thread, "--at", "2999-01-01T00:00:00", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


async def test_a_wordpress_export_becomes_threads_with_their_comments(
    world: World, settings: Settings
) -> None:
    first = cli(settings, "import", "wxr", str(FIXTURES / "wordpress.wxr.xml"), "--site", "blog")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["threads"] == 2 and summary["imported"] == 6
    assert summary["by_status"] == {"approved": 4, "pending": 1, "spam": 1}
    assert summary["likes"] == 3
    reasons = {(s["source_id"], s["reason"]) for s in summary["skipped"]}
    assert ("16", "pingback is not a comment") in reasons
    assert ("17", "status 'trash'") in reasons
    assert ("", "a post with no comments") in reasons
    assert [r["source_id"] for r in summary["reparented"]] == ["15"]
    assert {(d["source_id"], d["field"]) for d in summary["dropped_fields"]} == {
        ("15", "author.email")
    }

    view = thread(settings, "blog/i-dream-of-ketamine")
    assert view["title"] == "I dream of ketamine"
    assert view["url"] == "https://blog.example/2024/i-dream-of-ketamine/"
    assert view["count"] == 3  # pending and spam are kept, hidden
    zoe, orphan = view["comments"]
    assert zoe["id"] == "wp11" and zoe["author"]["name"] == "Zoë Ünicode"
    assert zoe["created_at"].startswith("2024-03-01T14:00:00")
    assert "<strong>wörld</strong>" in zoe["html"] and "你好" in zoe["html"]
    assert "<script>" not in zoe["html"] and "onclick" not in zoe["html"]
    assert zoe["likes"]["count"] == 3
    assert [r["id"] for r in zoe["replies"]] == ["wp12"]
    assert orphan["id"] == "wp15" and orphan["parent_id"] is None
    history = json.loads(
        cli(settings, "audit", "thread", "blog/i-dream-of-ketamine", "--json").stdout
    )
    statuses = [line["change"] for line in history if line["comment_id"] in ("wp13", "wp14")]
    assert len(statuses) == 2
    assert thread(settings, "blog/wp-102")["comments"][0]["html"] == "Quel été !"
    # The pending comment waits in the moderators' pending queue, the spam in the spam queue.
    await world.project()
    reader = ModerationReader(world.redis)
    models = [PartitionKeys(p).projection(MODERATION, 0) for p in range(settings.partitions)]
    queued = {
        queue: [item.record.comment_id for item in await reader.queue(models, "blog", queue, 10)]
        for queue in ("pending", "spam")
    }
    assert queued == {"pending": ["wp13"], "spam": ["wp14"]}

    again = json.loads(
        cli(settings, "import", "wxr", str(FIXTURES / "wordpress.wxr.xml"), "--site", "blog").stdout
    )
    assert (again["imported"], again["already_present"], again["likes"]) == (0, 6, 0)
    assert thread(settings, "blog/i-dream-of-ketamine") == view


async def test_a_disqus_export_becomes_threads_with_their_comments(
    world: World, settings: Settings
) -> None:
    result = cli(settings, "import", "disqus", str(FIXTURES / "disqus.xml"))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["threads"] == 2 and summary["imported"] == 5
    assert summary["by_status"] == {"approved": 3, "spam": 1, "pending": 1}
    assert [(s["source_id"], s["reason"]) for s in summary["skipped"]] == [
        ("9004", "deleted on Disqus")
    ]
    assert [r["source_id"] for r in summary["reparented"]] == ["9005"]
    view = thread(settings, "default/post-42")
    assert view["title"] == "Forty-two" and view["count"] == 2
    [nadia] = view["comments"]
    assert nadia["author"]["name"] == "Nadia" and "👍" in nadia["html"]
    assert "onerror" not in nadia["html"]
    assert [r["author"]["name"] for r in nadia["replies"]] == ["Guest"]
    assert thread(settings, "default/disqus-5002")["count"] == 1
    nadia_everywhere = json.loads(
        cli(settings, "audit", "actor", "disqus-user:nadia_n", "--json").stdout
    )
    assert {line["thread"] for line in nadia_everywhere} == {"post-42", "disqus-5002"}
    again = json.loads(cli(settings, "import", "disqus", str(FIXTURES / "disqus.xml")).stdout)
    assert again["imported"] == 0 and again["already_present"] == 5
