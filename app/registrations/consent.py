"""Consent to marketing email: given, withdrawn, and the record that proves each.

Every change is a `ConsentRecord` (time, source, the exact words); the lead's
`consent_marketing` follows the newest, so a withdrawal stops marketing mail from the moment
it is committed. Unsubscribe links name the lead, signed, and never expire.

Unsubscribing (an email's one-click link) and withdrawing consent (the manage page, the
console, the API) are one act: both set `Lead.unsubscribed_at`, which stops every email a
registration does not need (post-event emails, reminders) as well as marketing
(`may_send_non_transactional`), and withdraw a consent that was given. Only a new consent
(ticking the box again) clears it.

The source `import` is for a list that carries each person's consent. None of today's imports
does (an attendance report's walk-ins, a personal-links list of emails): the leads they create
have no consent and no record, because recording one would claim an agreement nobody gave.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import gettext
from itsdangerous import BadData, URLSafeSerializer

from app.db import db, utcnow, writing
from app.languages import N_
from app.registrations.models import ConsentRecord, Lead, Registration

UNSUBSCRIBE_SALT = "unsubscribe"
# The words of every withdrawing button (the manage page's, the unsubscribe page's), in
# English; a page in another language records them as it showed them (`withdrawal_words`).
WITHDRAWAL_TEXT = N_("Stop sending me news, reminders and emails after events")


def record_consent(
    lead: Lead, now: datetime, source: str, registration: Registration | None = None
) -> None:
    """The lead agreed to marketing email now, in the words the form showed."""
    text = current_app.config["CONSENT_TEXT"]
    lead.unsubscribed_at = None
    lead.consent_marketing = True
    lead.consent_at = now
    lead.consent_text = text
    _record(lead, "given", source, text, registration, now)


def withdrawal_words() -> str:
    """The withdrawing button's words as the current page shows them, in its language."""
    return gettext(WITHDRAWAL_TEXT)


def withdraw_consent(lead: Lead, now: datetime, source: str, words: str = WITHDRAWAL_TEXT) -> bool:
    """The lead wants no more marketing email, nor any other email a registration does not
    need, from now on. False when they had no consent to withdraw (they are unsubscribed all
    the same). `words` are what the person saw when they withdrew, kept as the record's."""
    if lead.unsubscribed_at is None:
        lead.unsubscribed_at = now
    if not lead.consent_marketing:
        return False
    lead.consent_marketing = False
    lead.consent_at = now
    lead.consent_text = words
    _record(lead, "withdrawn", source, words, None, now)
    return True


def withdraw_lead_consent(
    lead_id: int, source: str, now: datetime | None = None, words: str = WITHDRAWAL_TEXT
) -> bool:
    """`withdraw_consent` in its own write transaction, for the faces that withdraw."""
    with writing():
        lead = db.session.get(Lead, lead_id)
        return lead is not None and withdraw_consent(lead, now or utcnow(), source, words)


def may_send_marketing(lead: Lead) -> bool:
    """Whether marketing email (not the transactional mail of a registration) may go out."""
    return lead.consent_marketing and lead.unsubscribed_at is None


def may_send_non_transactional(lead: Lead) -> bool:
    """Whether an email the registration does not need (a post-event email, a reminder) may
    go out: yes until the person unsubscribes (`app.mail.post_event.not_unsubscribed` is the
    same rule in SQL)."""
    return lead.unsubscribed_at is None


def unsubscribe_token(lead: Lead) -> str:
    return str(
        URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT).dumps(lead.id)
    )


def unsubscribe_url(lead: Lead) -> str:
    return f"{current_app.config['BASE_URL']}/u/{unsubscribe_token(lead)}"


def lead_unsubscribing(token: str) -> Lead | None:
    """The lead an unsubscribe link names, or None for a forged one."""
    try:
        lead_id = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT).loads(
            token
        )
    except BadData:
        return None
    if not isinstance(lead_id, int):
        return None
    return db.session.get(Lead, lead_id)


def _record(
    lead: Lead,
    action: str,
    source: str,
    text: str,
    registration: Registration | None,
    now: datetime,
) -> None:
    db.session.add(
        ConsentRecord(
            lead_id=lead.id,
            action=action,
            source=source,
            text=text,
            registration_id=registration.id if registration is not None else None,
            recorded_at=now,
        )
    )
