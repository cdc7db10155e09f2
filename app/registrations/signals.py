"""What happens to a registration, announced inside its write transaction so that mail (and
later payments and follow-up) can add their rows to the same commit."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sender: the Event someone is about to register for, inside the write transaction but before
# its seat is taken: receivers read now what they will need once `registered` is sent, so that
# on PostgreSQL those reads do not happen while the seat UPDATE holds the event's row lock.
registering = _signals.signal("registering")
# sender: the Registration, new or re-activated; its status says confirmed/waitlisted/pending.
# An `unverified` one (double opt-in), one pending approval or one pending payment is announced
# again under its new status once verified, approved or paid, with keyword `again=True`.
registered = _signals.signal("registered")
# sender: the Registration that just took a freed seat from the waitlist.
promoted = _signals.signal("promoted")
# sender: the Registration just cancelled; keywords `previous_status` (its status before) and
# `by`: who gave the seat up ("registrant", "staff" or "payment": a hold never paid), and
# `message`: staff's words to the registrant, or None.
cancelled = _signals.signal("cancelled")
# sender: the Registration staff just declined (it was pending approval).
declined = _signals.signal("declined")
# sender: an existing Registration whose email was registered again by someone who may not be
# its registrant; the stored address is to be sent its manage link (within a rate cap).
link_requested = _signals.signal("link-requested")
# sender: the Registration whose recording was just opened through its tracked link; keyword
# `first`: whether this was its first on-demand view.
watched_on_demand = _signals.signal("watched-on-demand")
