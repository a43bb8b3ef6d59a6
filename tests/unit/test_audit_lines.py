"""Every event type is told for people in the audit trail (a type without a line would break
`audit` on the first log that has one)."""

import pytest

from events.log_entry import decode_entry
from events.thread_events import ThreadEvent
from projections.audit_trail import describe
from tests.unit.test_stored_type import EVENTS, stored


@pytest.mark.parametrize("event", EVENTS, ids=lambda event: event.type)
def test_every_event_type_has_a_line(event: ThreadEvent) -> None:
    line = describe(decode_entry(stored(event)), None)
    assert line.type == event.type and line.change


def test_moderation_lines_name_what_was_done() -> None:
    by_type = {e.type: describe(decode_entry(stored(e)), None).change for e in EVENTS}
    assert by_type["CommentApproved"] == "approved by a moderator"
    assert by_type["CommentReported"] == 'reported: \'"type":"CommentLiked"}\''
    assert by_type["ThreadLocked"] == "thread locked by a moderator"
