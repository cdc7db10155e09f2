"""The only module that talks to Stripe: Checkout Sessions, refunds and webhook signatures.

It knows nothing of registrations: callers give it amounts, addresses and keys, and get plain
values back (never a Stripe object), so the rest of the app does not depend on the client's
types. Every call that creates something carries the caller's deterministic idempotency key,
so a retried request, a second worker or a double click never charges or refunds twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe
from flask import current_app

from app.languages import N_

# Stripe's own webhook tolerance: a signature older than this is refused as a replay.
WEBHOOK_TOLERANCE_SECONDS = stripe.Webhook.DEFAULT_TOLERANCE


class GatewayError(Exception):
    """Stripe refused or could not be reached; `message` is safe to show a registrant."""

    def __init__(self, message: str, *, code: str | None = None, detail: str = "") -> None:
        super().__init__(detail or message)
        self.message = message
        self.code = code
        self.detail = detail


class BadSignature(Exception):
    """A webhook whose signature does not match, is stale, or whose body is not an event."""


class MalformedEvent(ValueError):
    """A correctly signed event whose object is not shaped as Stripe documents it (a field of
    the wrong type, an amount or a time out of range): refused whole, nothing acted on."""


# Stripe's largest amount is eight digits; our amount columns are 32-bit.
AMOUNT_MAX = 2**31 - 1


def text_of(data: dict[str, Any], name: str) -> str | None:
    """The string field `name` of a Stripe object, or None when absent."""
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise MalformedEvent(f"`{name}` should be a string, not {type(value).__name__}.")
    if value and "\x00" in value:
        # PostgreSQL cannot compare or store text holding NUL; Stripe never sends it.
        raise MalformedEvent(f"`{name}` holds a NUL character.")
    return value


def amount_of(data: dict[str, Any], name: str) -> int | None:
    """The amount (a whole number of minor units) `name` of a Stripe object, or None."""
    value = data.get(name)
    if value is None:
        return None
    # bool is an int to Python, not to Stripe.
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedEvent(f"`{name}` should be a whole number, not {type(value).__name__}.")
    if not 0 <= value <= AMOUNT_MAX:
        raise MalformedEvent(f"`{name}` is out of range.")
    return value


def _moment_of(data: dict[str, Any], name: str) -> datetime | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedEvent(f"`{name}` should be a Unix time, not {type(value).__name__}.")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedEvent(f"`{name}` is out of range.") from None


def _metadata_of(data: dict[str, Any]) -> dict[str, str]:
    value = data.get("metadata") or {}
    if not isinstance(value, dict):
        raise MalformedEvent("`metadata` should map names to strings.")
    return {str(key): text_of(value, key) or "" for key in value}


@dataclass(frozen=True)
class Checkout:
    """A Checkout Session as far as we care: where to send the buyer and what became of it."""

    id: str
    url: str | None
    status: str  # open, complete, expired
    payment_status: str  # paid, unpaid, no_payment_required
    payment_intent: str | None
    amount_total: int | None
    currency: str | None
    expires_at: datetime | None
    client_reference_id: str | None
    metadata: dict[str, str]

    @classmethod
    def from_stripe(cls, data: dict[str, Any]) -> Checkout:
        """Read a session; `MalformedEvent` when a field is not of Stripe's documented type."""
        intent = data.get("payment_intent")
        if isinstance(intent, dict):  # expanded
            intent = intent.get("id")
        return cls(
            id=text_of(data, "id") or "",
            url=text_of(data, "url"),
            status=text_of(data, "status") or "open",
            payment_status=text_of(data, "payment_status") or "unpaid",
            payment_intent=text_of({"payment_intent": intent}, "payment_intent"),
            amount_total=amount_of(data, "amount_total"),
            currency=(text_of(data, "currency") or "").upper() or None,
            expires_at=_moment_of(data, "expires_at"),
            client_reference_id=text_of(data, "client_reference_id"),
            metadata=_metadata_of(data),
        )


@dataclass(frozen=True)
class Refund:
    id: str
    status: str  # pending, succeeded, failed, canceled, requires_action
    amount: int


@dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook: Stripe's event id, its type and the object it is about."""

    id: str
    type: str
    object: dict[str, Any]


def _client() -> stripe.StripeClient:
    config = current_app.config
    base = config.get("STRIPE_API_BASE")
    return stripe.StripeClient(
        config["STRIPE_SECRET_KEY"],
        base_addresses={"api": base} if base else None,
        max_network_retries=config["STRIPE_MAX_NETWORK_RETRIES"],
    )


def _failed(exc: stripe.StripeError) -> GatewayError:
    if isinstance(exc, stripe.APIConnectionError):
        message = N_(
            "The payment service could not be reached. Nothing was charged; please try again."
        )
    elif isinstance(exc, (stripe.AuthenticationError, stripe.PermissionError)):
        message = N_("Payments are not set up correctly. Nothing was charged; we have been told.")
    else:
        message = N_(
            "The payment service refused the request. Nothing was charged; please try again."
        )
    return GatewayError(message, code=exc.code, detail=f"{type(exc).__name__}: {exc}")


def create_checkout(
    *,
    idempotency_key: str,
    reference: str,
    email: str,
    description: str,
    amount_cents: int,
    currency: str,
    success_url: str,
    cancel_url: str,
    expires_at: datetime,
    metadata: dict[str, str],
) -> Checkout:
    """Open a Checkout Session for one seat; the same key gives back the same session."""
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": currency.lower(),
                    "unit_amount": amount_cents,
                    "product_data": {"name": description[:250]},
                },
            }
        ],
        "client_reference_id": reference,
        "customer_email": email,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": int(expires_at.timestamp()),
    }
    try:
        session = _client().v1.checkout.sessions.create(
            params,  # type: ignore[arg-type]
            {"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as exc:
        raise _failed(exc) from exc
    return Checkout.from_stripe(session.to_dict())


def find_checkout(session_id: str) -> Checkout:
    try:
        session = _client().v1.checkout.sessions.retrieve(session_id)
    except stripe.StripeError as exc:
        raise _failed(exc) from exc
    return Checkout.from_stripe(session.to_dict())


def expire_checkout(session_id: str) -> Checkout:
    """Close an open session so it can no longer be paid; a closed one is returned as it is."""
    try:
        session = _client().v1.checkout.sessions.expire(session_id)
    except stripe.InvalidRequestError:
        # Already complete or expired: what it became is what the caller needs.
        return find_checkout(session_id)
    except stripe.StripeError as exc:
        raise _failed(exc) from exc
    return Checkout.from_stripe(session.to_dict())


def refund(
    *, payment_intent: str, amount_cents: int, idempotency_key: str, metadata: dict[str, str]
) -> Refund:
    """Refund `amount_cents` of a payment; the same key never refunds twice.

    A payment Stripe says is already refunded answers as a succeeded refund of nothing, so
    a refund made in the Stripe dashboard meanwhile is not an error.
    """
    try:
        made = _client().v1.refunds.create(
            {"payment_intent": payment_intent, "amount": amount_cents, "metadata": metadata},
            {"idempotency_key": idempotency_key},
        )
    except stripe.InvalidRequestError as exc:
        if exc.code == "charge_already_refunded":
            return Refund(id="", status="succeeded", amount=0)
        raise _failed(exc) from exc
    except stripe.StripeError as exc:
        raise _failed(exc) from exc
    return Refund(id=made.id, status=made.status or "pending", amount=made.amount)


def verify_webhook(payload: bytes, signature: str | None) -> WebhookEvent:
    """Check Stripe's signature on the raw body (and its age) and read the event."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        raise BadSignature("Stripe webhooks are not configured here.")
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature or "", secret, WEBHOOK_TOLERANCE_SECONDS
        )
        data = json.loads(payload)
    except stripe.SignatureVerificationError as exc:
        raise BadSignature(str(exc.user_message or exc)) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadSignature("The body is not a Stripe event.") from exc
    if not isinstance(data, dict):
        raise BadSignature("The body is not a Stripe event.")
    inner = data.get("data")
    obj = inner.get("object") if isinstance(inner, dict) else None
    if not isinstance(obj, dict):
        raise BadSignature("The body is not a Stripe event: `data.object` is not an object.")
    try:
        event_id, kind = text_of(data, "id"), text_of(data, "type")
    except MalformedEvent as exc:
        raise BadSignature(f"The body is not a Stripe event: {exc}") from None
    if not event_id or len(event_id) > 255:
        raise BadSignature("The body is not a Stripe event: it has no usable `id`.")
    return WebhookEvent(id=event_id, type=kind or "", object=obj)
