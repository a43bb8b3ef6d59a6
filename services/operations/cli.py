"""The operators' and auditors' commands of `commentstream` (see services/cli.py)."""

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from projections.names import PROJECTION_NAMES
from services.settings import Settings, settings_for_a_process

OPERATOR = "service:commentstream-cli"
audit_app = typer.Typer(help="Who did what when, from the log.", no_args_is_help=True)
import_app = typer.Typer(help="Import from the platforms people leave.", no_args_is_help=True)
dlq_app = typer.Typer(help="Dead letters: parked commands and events.", no_args_is_help=True)
cluster_app = typer.Typer(help="The store's shards, on Redis Cluster.", no_args_is_help=True)
spam_app = typer.Typer(
    help="A site's own spam score, learned from its verdicts.", no_args_is_help=True
)
err = Console(stderr=True)
T = TypeVar("T")
Json = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


class EventsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:>9,.0f} ev/s" if task.speed else " " * 14)


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (events/s, ETA); yields the function that advances it."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:>10,.0f}/{task.total:,.0f}"),
        EventsPerSecond(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)


@dataclass
class Tools:
    settings: Settings
    redis: Any
    store: Any
    vault: Any
    handler: Any


@asynccontextmanager
async def tools() -> AsyncIterator[Tools]:
    from services.processor.command_handler import CommandHandler
    from services.processor.moderation_inputs import ModerationInputs
    from storage.connection import connect
    from storage.event_store import EventStore
    from storage.key_vault import AuthorKeyVault
    from storage.log_reader import close_client

    settings = settings_for_a_process()
    redis = connect(settings.store)
    store = EventStore(redis, settings.partitions, settings.outcome_ttl_seconds)
    vault = AuthorKeyVault(redis, settings.secret)
    handler = CommandHandler(
        store, vault, settings.edit_window, ModerationInputs.defaults(settings.secret)
    )
    try:
        yield Tools(settings, redis, store, vault, handler)
    finally:
        await close_client(redis)


def run(work: Callable[[Tools], Awaitable[T]]) -> T:
    async def main() -> T:
        async with tools() as t:
            return await work(t)

    return asyncio.run(main())


async def _log_total(t: Any) -> int:
    from storage.log_reader import log_length

    return await log_length(t.redis, t.settings.partitions)


def _print_lines(lines: Any, as_json: bool) -> None:
    from services.operations.history import as_json as to_json

    if as_json:
        print(json.dumps(to_json(lines), ensure_ascii=False, indent=1))
        return
    if not isinstance(lines, list):
        print(lines.model_dump_json(indent=1))
        return
    for line in lines:
        print(
            f"{line.occurred_at:%Y-%m-%d %H:%M:%S.%f}"[:-3]
            + f"  {line.site}/{line.thread} v{line.thread_version:<4} {line.type:<15}"
            f" {line.actor:<24} cmd={line.command_id}"
            + (f" comment={line.comment_id}" if line.comment_id else "")
            + f"  {line.change}"
        )


@audit_app.command("thread")
def audit_thread(
    target: Annotated[str, typer.Argument(metavar="SITE/THREAD")],
    at: Annotated[
        datetime | None, typer.Option(help="Show the thread as it was then (UTC).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Every event of a thread in order; with --at, the thread as readers saw it then."""
    from services.operations.history import thread_at, thread_history

    site, _, thread = target.rpartition("/")
    site = site or "default"
    moment = at.replace(tzinfo=at.tzinfo or UTC) if at else None
    result = run(
        lambda t: (
            thread_at(t.store, t.vault, site, thread, moment)
            if moment
            else thread_history(t.store, t.vault, site, thread)
        )
    )
    _print_lines(result, as_json)


def _search_log(history: Any, needle: str, as_json: bool) -> None:
    """Run one of the history searches over the whole log, with a progress bar."""

    async def work(t: Tools) -> Any:
        with progress_bar("searching the log", await _log_total(t)) as advance:
            return await history(t.redis, t.store, t.vault, needle, advance)

    _print_lines(run(work), as_json)


@audit_app.command("comment")
def audit_comment(comment_id: str, as_json: Json = False) -> None:
    """Every version of a comment, who liked and unliked it when, its deletion."""
    from services.operations.history import comment_history

    _search_log(comment_history, comment_id, as_json)


@audit_app.command("actor")
def audit_actor(identity: str, as_json: Json = False) -> None:
    """Everything one identity did, across threads."""
    from services.operations.history import actor_history

    _print_lines(run(lambda t: actor_history(t.store, t.vault, identity)), as_json)


def verify(
    as_json: Json = False,
    chains_only: Annotated[bool, typer.Option(help="Skip the read-model comparison.")] = False,
    digest: Annotated[
        Path | None, typer.Option(help="Also prove the log unchanged up to this digest file.")
    ] = None,
    public_key: Annotated[
        str | None, typer.Option(help="The signing key (hex) the digest must be signed with.")
    ] = None,
) -> None:
    """Check every thread's hash chain, then every read model against a fresh replay; with
    --digest, the log against a signed digest kept outside (commentstream digest)."""
    from projections.registry import PROJECTIONS
    from services.operations.digests import verify_against
    from services.operations.parallel_build import Workers
    from services.operations.verify import compare_models, verify_chains

    async def work(t: Tools) -> dict[str, Any]:
        total = await _log_total(t)
        with progress_bar("hash chains", total) as advance:
            chains = await verify_chains(t.redis, t.settings.partitions, advance)
        anchored = None
        if digest is not None:
            document = json.loads(digest.read_text())
            anchored = vars(await verify_against(t.redis, document, public_key))
            anchored["altered"] = [vars(a) for a in anchored["altered"]]
        differences = []
        if not chains_only:
            for name, make in PROJECTIONS.items():
                with progress_bar(f"replaying {name}", total) as advance:
                    differences += await compare_models(
                        t.redis,
                        make(t.redis, t.vault),
                        t.settings.partitions,
                        advance,
                        Workers(t.settings),
                    )
        return {
            "events": chains.events,
            "threads": chains.threads,
            "broken": [vars(b) for b in chains.broken],
            "differences": [vars(d) for d in differences],
            "digest": anchored,
        }

    report = run(work)
    digest_failed = _print_digest_check(report["digest"], as_json)
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=1, default=str))
    else:
        print(f"{report['events']:,} events in {report['threads']:,} threads")
        for b in report["broken"]:
            print(
                f"BROKEN {b['site']}/{b['thread']} version {b['thread_version']} at "
                f"{b['position']}: {b['problem']}: expected {b['expected']}, found {b['found']}"
            )
        for d in report["differences"]:
            print(
                f"DIFFERS {d['key']} {d['field'] or ''}: model {d['in_model']!r} "
                f"!= replay {d['in_replay']!r}"
            )
        if not report["broken"] and not report["differences"]:
            print("ok: every hash chain links and every read model equals a fresh replay")
    if report["broken"] or report["differences"] or digest_failed:
        raise typer.Exit(1)


def _print_digest_check(check: dict[str, Any] | None, as_json: bool) -> bool:
    """Say what the digest check found (unless --json); True when it failed."""
    if check is None:
        return False
    failed = bool(check["problems"] or check["altered"])
    if as_json:
        return failed
    for problem in check["problems"]:
        print(f"DIGEST {problem}")
    for a in check["altered"]:
        print(
            f"ALTERED {a['thread']} version {a['version']} at {a['position']} (partition "
            f"{a['partition']}): {a['problem']}, digest has {a['expected'] or '-'}, log has "
            f"{a['found'] or '-'}"
        )
    if not failed:
        print(
            f"ok: the log is unchanged up to digest {check['seq']} of {check['at']} "
            f"({check['events']:,} events, signed by key {check['key']})"
        )
    return failed


def digest(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the file.")],
) -> None:
    """Export the latest signed digest of the log, with the events it covers, to keep outside
    the system (verify --digest FILE proves the log up to it unchanged)."""
    from services.operations.digests import DigestUnusable, export_digest

    async def work(t: Tools) -> dict[str, Any]:
        return await export_digest(t.redis)

    try:
        document = run(work)
    except DigestUnusable as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    output.write_text(json.dumps(document, separators=(",", ":")))
    signed = document["digest"]
    covered = sum(p["events"] for p in signed["partitions"])
    print(f"digest {signed['seq']} of {signed['at']}: {covered:,} events, key {signed['key']}")


def replay(
    projection: Annotated[str, typer.Argument(help="thread_view | like_counts | all")],
) -> None:
    """Rebuild a read model from the start of the log, then switch readers to it."""
    from projections.registry import PROJECTIONS
    from services.operations.parallel_build import Workers
    from services.operations.replay import replay as rebuild

    names = list(PROJECTIONS) if projection == "all" else [projection]
    if any(name not in PROJECTIONS for name in names):
        raise typer.BadParameter(f"choose one of {', '.join(PROJECTIONS)} or all")

    async def work(t: Tools) -> None:
        total = await _log_total(t)
        for name in names:
            with progress_bar(f"replaying {name}", total) as advance:
                old, new = await rebuild(
                    t.redis,
                    PROJECTIONS[name](t.redis, t.vault),
                    t.settings.partitions,
                    advance,
                    Workers(t.settings),
                )
            err.print(f"{name}: readers switched from generation {old} to {new}")

    run(work)


KeysFile = Annotated[
    Path | None,
    typer.Option(help="Author keys file (JSON, wrapped under COMMENTSTREAM_SECRET)."),
]


def export_events(
    site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
    keys: KeysFile = None,
) -> None:
    """Every envelope as JSON lines, in log order, to standard output; with --keys, the author
    keys too (without them, the personal data in the export stays sealed)."""
    from services.operations.transfer import export_lines

    async def work(t: Tools) -> None:
        with progress_bar("exporting", await _log_total(t)) as advance:
            async for line in export_lines(t.redis, t.settings.partitions, site, advance):
                sys.stdout.write(line + "\n")
        if keys is not None:
            keys.write_text(json.dumps(await t.vault.export_wrapped()))

    run(work)


def import_events(path: Path, keys: KeysFile = None) -> None:
    """Fill an empty deployment from `commentstream export` output (same positions and hashes)."""
    from services.operations.transfer import NotEmpty, import_lines

    with path.open(encoding="utf-8") as counting:
        total = sum(1 for _ in counting)

    async def work(t: Tools) -> int:
        with progress_bar("importing", total) as advance, path.open(encoding="utf-8") as lines:
            imported = await import_lines(t.redis, t.settings.partitions, lines, advance)
        if keys is not None:
            await t.vault.import_wrapped(json.loads(keys.read_text()))
        return imported

    try:
        err.print(f"imported {run(work):,} events")
    except NotEmpty as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error


def erase_author(identity: str) -> None:
    """Crypto-shred one author: delete their key; their comments read as deleted everywhere."""
    from events.actors import Actor
    from services.privacy import erase_author as erase

    operator = Actor(id=OPERATOR, kind="service")
    print(
        json.dumps(
            run(lambda t: erase(t.store, t.vault, identity, operator, t.handler.handle)), indent=1
        )
    )


def export_author(identity: str) -> None:
    """Everything held about one author, as JSON (a data-access request)."""
    from services.privacy import export_author as export

    print(
        json.dumps(run(lambda t: export(t.store, t.vault, identity)), ensure_ascii=False, indent=1)
    )


def _import(parse: Callable[[Path], Any], path: Path, site: str, prefix: str) -> None:
    from services.operations.migration.importer import import_export

    parsed = parse(path)

    async def work(t: Tools) -> Any:
        return await import_export(t.handler, parsed, site, prefix)

    summary = run(work).as_dict()
    print(json.dumps(summary, ensure_ascii=False, indent=1))


Site = Annotated[str, typer.Option(help="The site the threads belong to.")]


@import_app.command("wxr")
def import_wxr(path: Path, site: Site = "default") -> None:
    """A WordPress export (WXR): posts become threads, comments keep time, author, parent and
    status. Importing the same file again adds nothing."""
    from services.operations.migration.wxr import parse_wxr

    _import(parse_wxr, path, site, "wp")


@import_app.command("disqus")
def import_disqus(path: Path, site: Site = "default") -> None:
    """A Disqus XML export, the same way."""
    from services.operations.migration.disqus import parse_disqus

    _import(parse_disqus, path, site, "dq")


@dlq_app.command("list")
def dlq_list(as_json: Json = False) -> None:
    """Every parked command and event, with its reason."""
    from storage.dead_letters import dead_letters

    letters = run(lambda t: dead_letters(t.redis, t.settings.partitions, PROJECTION_NAMES))
    if as_json:
        print(json.dumps([vars(letter) for letter in letters], ensure_ascii=False, indent=1))
        return
    for letter in letters:
        print(f"{letter.ref}  {letter.reason}  {letter.detail[:100]}")
    err.print(f"{len(letters)} dead letters")


Refs = Annotated[list[str] | None, typer.Argument(help="Refs from `dlq list`.")]
Every = Annotated[bool, typer.Option("--all", help="Every dead letter.")]


def _act_on_letters(refs: list[str] | None, every: bool, action: str) -> None:
    from storage import dead_letters as dlq

    act = dlq.retry if action == "retry" else dlq.drop

    async def work(t: Tools) -> list[str]:
        letters = await dlq.dead_letters(t.redis, t.settings.partitions, PROJECTION_NAMES)
        chosen = (
            letters if every else [letter for letter in letters if letter.ref in set(refs or [])]
        )
        return [letter.ref for letter in chosen if await act(t.redis, letter)]

    done = run(work)
    print(json.dumps({action: done}, indent=1))


@dlq_app.command("retry")
def dlq_retry(refs: Refs = None, every: Every = False) -> None:
    """Send parked commands again (events are rebuilt with `replay` instead)."""
    _act_on_letters(refs, every, "retry")


@dlq_app.command("drop")
def dlq_drop(refs: Refs = None, every: Every = False) -> None:
    """Delete dead letters for good."""
    _act_on_letters(refs, every, "drop")


@spam_app.command("train")
def spam_train(site: Site = "default", as_json: Json = False) -> None:
    """Train the site's spam model on its verdicts in the log (approve vs spam); the processor
    holds new comments scoring at or above the site's `spam_threshold` (reason `spam_score`)."""
    from services.operations.spam import NotEnoughDecisions, decisions, store_model, train

    async def work(t: Tools) -> dict[str, Any]:
        judged = await decisions(t.redis, t.vault, t.settings.partitions, site)
        model = train(site, judged)
        await store_model(t.redis, model)
        return {
            "site": site,
            "trained_at": model.trained_at.isoformat(),
            "published": model.ham,
            "spam": model.spam,
            "vocabulary": len(model.vocabulary),
        }

    try:
        summary = run(work)
    except NotEnoughDecisions as error:
        Console(stderr=True).print(f"not trained: {error}")
        raise typer.Exit(1) from error
    if as_json:
        print(json.dumps(summary))
    else:
        Console().print(
            f"{site}: trained on {summary['published']} published and {summary['spam']} spam"
            f" comments ({summary['vocabulary']} features); the processor picks it up within 5 s"
        )


@cluster_app.command("status")
def cluster_status(as_json: Json = False) -> None:
    """Partitions per shard and each shard's share of the log (one shard on one server)."""
    from services.operations.cluster_status import cluster_status as status_of
    from services.operations.cluster_status import status_lines

    status = run(lambda t: status_of(t.redis, t.settings.partitions))
    if as_json:
        print(json.dumps(status.as_json(), indent=1))
    else:
        print("\n".join(status_lines(status)))


def contracts(
    docs: Annotated[Path, typer.Option(help="Where the contracts are kept.")] = Path("docs"),
    check: Annotated[bool, typer.Option("--check", help="Only say which are stale.")] = False,
) -> None:
    """Write the AsyncAPI document and the JSON Schemas of the streams under docs/ from the
    code (`--check`: exit 1 if any is stale)."""
    from services.contracts import stale_files, write_contracts

    if check:
        stale = stale_files(docs)
        for path in stale:
            print(f"stale: {docs / path}")
        raise typer.Exit(1 if stale else 0)
    for path in write_contracts(docs):
        print(f"written: {docs / path}")


def rename_keys() -> None:
    """Give keys of the old form (`cs:{3}:…`) their spread partition tags; stop every service
    first (`commentstream up` does this by itself)."""
    from storage.connection import connect
    from storage.key_upgrade import rename_old_keys
    from storage.log_reader import close_client

    async def main() -> int:
        redis = connect(settings_for_a_process().store)
        try:
            return await rename_old_keys(redis)
        finally:
            await close_client(redis)

    print(f"renamed {asyncio.run(main())} keys")


def register_operations(app: typer.Typer) -> None:
    """Attach these commands to the main `commentstream` app."""
    app.add_typer(audit_app, name="audit")
    app.add_typer(import_app, name="import")
    app.add_typer(dlq_app, name="dlq")
    app.add_typer(spam_app, name="spam")
    app.add_typer(cluster_app, name="cluster")
    app.command()(verify)
    app.command()(digest)
    app.command()(replay)
    app.command("export")(export_events)
    app.command("import-events")(import_events)
    app.command("erase-author")(erase_author)
    app.command("export-author")(export_author)
    app.command("rename-keys")(rename_keys)
    app.command()(contracts)
