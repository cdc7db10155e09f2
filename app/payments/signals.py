"""What happens to a payment, announced inside its write transaction so that other packages
(webhooks) can add their rows to the same commit without payments knowing them."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sender: the Payment Stripe just reported paid.
paid = _signals.signal("paid")
# sender: the Payment whose refund Stripe just accepted.
refunded = _signals.signal("refunded")
