"""What happens in follow-up, announced inside its write transaction so that other packages
(webhooks) can add their rows to the same commit without follow-up knowing them."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sender: the Event whose attendance report was just applied; keyword `summary`: the
# ImportSummary (attended, no-show, unmatched counts).
attendance_applied = _signals.signal("attendance-applied")
# sender: the Event just routed; keyword `run_id`: the RoutingRun whose follow-ups were made.
routed = _signals.signal("routed")
# sender: a FollowUp just given to a rep (by hand or by escalation).
assigned = _signals.signal("assigned")
# sender: a FollowUp whose rep just gave a verdict (its status changed).
updated = _signals.signal("updated")
# sender: a RegistrationAlert just sent to its rep; keywords `answers` (label, answer pairs)
# and `history` (the lead's earlier registrations, `alerts.Earlier`).
alerted = _signals.signal("alerted")
