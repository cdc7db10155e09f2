"""When a receiver keeps failing, its subscription is paused and its owner told.

Standard Webhooks ends its retry schedule with "notify and disable": a receiver that fails
every attempt gets no more deliveries until someone has looked. Here a subscription is paused

- at once when its receiver answers 410 Gone (it asked for no more);
- when one of its deliveries uses up its attempts (`WEBHOOKS_MAX_ATTEMPTS`);
- when `WEBHOOKS_PAUSE_AFTER_FAILURES` attempts in a row failed and the first of them is at
  least `WEBHOOKS_PAUSE_AFTER_MINUTES` old: a receiver that is down under heavy traffic is
  paused before every one of its deliveries has run out its schedule, while a burst failing
  within a short outage is not.

Any accepted delivery ends the streak. Events that happen while a subscription is paused are
not queued for it (`outbox` announces to active subscriptions only); the deliveries it was
owed when it was paused keep their place and are sent when it is resumed.

These functions work in the caller's transaction and never commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, render_template
from sqlalchemy import func, literal, select, update

from app.db import UTCDateTime, db, rows_changed
from app.mail import outbox as mail_outbox
from app.mail.compose import Letter, one_line
from app.models import User
from app.webhooks.models import WebhookSubscription
from app.webhooks.outbox import stamp

GONE = "The receiver answered 410 Gone, which asks for no more deliveries."


def note_success(subscription_id: int) -> None:
    """The receiver accepted a delivery: its failure streak, if any, is over."""
    db.session.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id, WebhookSubscription.failures > 0)
        .values(failures=0, failing_since=None)
        .execution_options(synchronize_session=False)
    )


def note_failure(subscription_id: int, now: datetime) -> str | None:
    """Count a failed attempt in the receiver's streak; why to pause it now, if the streak
    is long enough (in attempts and in time)."""
    failures, since = db.session.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id)
        .values(
            failures=WebhookSubscription.failures + 1,
            failing_since=func.coalesce(
                WebhookSubscription.failing_since, literal(now, UTCDateTime())
            ),
        )
        .returning(WebhookSubscription.failures, WebhookSubscription.failing_since)
        .execution_options(synchronize_session=False)
    ).one()
    config = current_app.config
    enough = int(config["WEBHOOKS_PAUSE_AFTER_FAILURES"])
    lasted = timedelta(minutes=float(config["WEBHOOKS_PAUSE_AFTER_MINUTES"]))
    if failures >= enough and now - since >= lasted:
        return f"{failures} attempts in a row failed since {since:%-d %b %Y, %H:%M} UTC."
    return None


def pause(subscription_id: int, reason: str, now: datetime, *, last_error: str | None) -> bool:
    """Pause the subscription and email its owner why; False when it was paused already
    (so the owner is told once)."""
    paused = rows_changed(
        update(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id, WebhookSubscription.active.is_(True))
        .values(active=False, paused_at=now, paused_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if not paused:
        return False
    subscription = db.session.get(WebhookSubscription, subscription_id, populate_existing=True)
    assert subscription is not None
    _tell_owner(subscription, last_error)
    return True


def console_url(subscription: WebhookSubscription) -> str:
    return f"{current_app.config['BASE_URL']}/admin/webhooks/{subscription.id}"


def _tell_owner(subscription: WebhookSubscription, last_error: str | None) -> None:
    """Email the staff user who added the subscription; every active admin when that user
    is gone or inactive (someone must learn that deliveries stopped)."""
    owner = db.session.get(User, subscription.owner_id) if subscription.owner_id else None
    if owner is not None and owner.active:
        recipients = [owner]
    else:
        recipients = list(
            db.session.scalars(select(User).where(User.role == "admin", User.active.is_(True)))
        )
    assert subscription.paused_at is not None
    subject = one_line(f"Webhook paused: {subscription.url}")[:300]
    for user in recipients:
        context = {
            "subject": subject,
            "recipient": user,
            "subscription": subscription,
            "last_error": last_error,
            "console_url": console_url(subscription),
        }
        letter = Letter(
            subject,
            render_template("webhooks/mail/paused.txt", **context),
            render_template("webhooks/mail/paused.html", **context),
        )
        mail_outbox.queue_letter(
            "webhook_paused",
            f"webhook-paused:{subscription.id}:{stamp(subscription.paused_at)}:{user.id}",
            letter,
            to_email=user.email,
            to_name=user.name,
        )
