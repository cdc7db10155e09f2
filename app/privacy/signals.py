"""What privacy does, announced inside its write transaction (webhooks and mail listen)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sender: the Erasure log row just written (it carries the address's hash, never the address).
erased = _signals.signal("erased")
# sender: the Registration whose registrant asked to be erased from its manage page; keyword
# `url`: the signed link that confirms the request, to be emailed to its stored address.
erasure_requested = _signals.signal("erasure-requested")
