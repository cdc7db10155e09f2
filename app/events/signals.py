"""What happens to an event, announced so that other packages (invites, payments) can act in
the same transaction without `events` knowing them. Receivers run before the commit."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sender: the Event; keyword `changed`: the set of field names whose values changed, and
# `before`: each watched field's value before the change.
event_changed = _signals.signal("event-changed")
# sender: the Event, just marked cancelled; keyword `message`: the organizer's words, or None.
event_cancelled = _signals.signal("event-cancelled")
