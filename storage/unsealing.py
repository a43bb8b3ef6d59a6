"""The personal data of an event, unsealed with its author's key from the vault."""

from collections.abc import Mapping

from events.envelope import EventEnvelope
from events.log_entry import decode_entry
from events.personal import PersonalData, sealing_context, unseal
from events.thread_events import CommentEdited, CommentPosted
from storage.connection import Store
from storage.key_vault import AuthorKeyVault
from storage.keys import PartitionKeys


async def personal_data(vault: AuthorKeyVault, envelope: EventEnvelope) -> PersonalData | None:
    """The unsealed personal fields of an event, None if it has none or its author was erased."""
    event = envelope.event()
    if not isinstance(event, CommentPosted | CommentEdited):
        return None
    sealed = event.personal
    if isinstance(sealed, PersonalData):
        return sealed
    key = await vault.key_for_reading(sealed.key_id)
    if key is None:
        return None
    return unseal(sealed, key, sealing_context(envelope.site, envelope.thread, event.comment_id))


async def sources_at(
    redis: Store, vault: AuthorKeyVault, keys: PartitionKeys, positions: Mapping[str, str]
) -> dict[str, str]:
    """Per comment id, the body its event at a log position (its post or last edit) holds,
    unsealed, in one round trip; left out where the author was erased or the entry is gone.
    The read models keep no copy of a comment's source: this is where it is read again."""
    ids = list(positions)
    async with redis.pipeline(transaction=False) as pipe:
        for comment_id in ids:
            pipe.xrange(keys.events, min=positions[comment_id], max=positions[comment_id])
        found = await pipe.execute()
    sources = {}
    for comment_id, entries in zip(ids, found, strict=True):
        if not entries:
            continue
        entry_id, fields = entries[0]
        personal = await personal_data(vault, decode_entry(fields, entry_id))
        if personal is not None:
            sources[comment_id] = personal.body or ""
    return sources
