"""The personal data of an event, unsealed with its author's key from the vault."""

from events.envelope import EventEnvelope
from events.personal import PersonalData, sealing_context, unseal
from events.thread_events import CommentEdited, CommentPosted
from storage.key_vault import AuthorKeyVault


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
