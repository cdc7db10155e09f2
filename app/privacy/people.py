"""A person's data as one document, and erasing it: the two answers to a data-subject
request. A person is an email address; what is held about it is the lead, its registrations
and its consent records (here) plus whatever each package's exporter adds (`registry`)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select

from app import fields
from app.db import db, utcnow, writing
from app.privacy import signals
from app.privacy.models import Erasure
from app.privacy.registry import Person, email_hash, registry
from app.registrations.models import ConsentRecord, Lead, Registration

# What an erased registration and lead are left with: no name, no address anyone owns.
ERASED_DOMAIN = "erased.invalid"
ERASED_NAME = "Erased"
# What a lead and a registration know of the person, by column.
PERSON_FIELDS = ("email", "first_name", "last_name", "company", "job_title", "country", "phone")
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign")
# Where a registration came from that can point at the person's own click or page.
CLICK_TRACES = ("utm_term", "utm_content", "gclid", "fbclid", "referrer")
REFUNDS_NOTE = (
    "Erasure refunds nothing: payments stay as they were (amounts and Stripe references, "
    "kept for the accounts). Refund a paid seat before erasing if one is owed."
)


def normalized(raw: str) -> str:
    """The address as leads and registrations store it (case ignored); "" if it is none."""
    try:
        return fields.normalize_email(raw)[1]
    except fields.InvalidValue:
        return raw.strip().lower()


def find_person(raw_email: str) -> Person | None:
    """Who holds `raw_email` (any case), or None when nothing is held about it."""
    email = normalized(raw_email)
    if not email or email.endswith("@" + ERASED_DOMAIN):
        return None
    lead = db.session.scalar(select(Lead).where(Lead.email == email))
    registrations = list(
        db.session.scalars(
            select(Registration)
            .where(
                or_(
                    Registration.email_normalized == email,
                    Registration.lead_id == (lead.id if lead else None),
                )
            )
            .order_by(Registration.id)
        )
    )
    if lead is None and not registrations:
        return None
    names = {r.full_name for r in registrations} | ({_full_name(lead)} if lead else set())
    phones = {r.phone for r in registrations if r.phone} | (
        {lead.phone} if lead and lead.phone else set()
    )
    return Person(
        email=email,
        lead_id=lead.id if lead else None,
        registration_ids=tuple(r.id for r in registrations),
        names=tuple(sorted(name for name in names if name)),
        phones=tuple(sorted(phones)),
        addresses=tuple(sorted({r.email for r in registrations})),
    )


def export_person(raw_email: str) -> dict[str, Any] | None:
    """Everything held about `raw_email` as one JSON-ready document, or None if nothing is."""
    person = find_person(raw_email)
    if person is None:
        return None
    document: dict[str, Any] = {"email": person.email, **_held_here(person)}
    for exporter in registry().exporters.values():
        document.update(exporter(person))
    return document


@dataclass
class ErasureReport:
    email_sha256: str
    counts: dict[str, int]
    erased_at: datetime
    refunds: str = REFUNDS_NOTE

    def to_json(self) -> dict[str, Any]:
        return {
            "erased": True,
            "email_sha256": self.email_sha256,
            "counts": self.counts,
            "erased_at": iso(self.erased_at),
            "refunds": self.refunds,
        }


def erase_person(
    raw_email: str, *, actor: str, source: str, now: datetime | None = None
) -> ErasureReport | None:
    """Erase everything held about `raw_email`, for good, in one transaction that logs it.

    Registrations and the lead stay as anonymous rows, so seats, attendance and reports keep
    their counts; every package's eraser runs first, then those rows lose their person.
    None when nothing is held.
    """
    now = now or utcnow()
    with writing():
        person = find_person(raw_email)
        if person is None:
            return None
        counts = {name: eraser(person, now) for name, eraser in registry().erasers.items()}
        counts["registrations"] = _anonymise_registrations(person)
        counts["leads"] = _anonymise_lead(person, now)
        log = Erasure(
            email_sha256=person.email_hash,
            actor=actor,
            source=source,
            counts=counts,
            erased_at=now,
        )
        db.session.add(log)
        db.session.flush()
        signals.erased.send(log)
    return ErasureReport(person.email_hash, counts, now)


def was_erased(raw_email: str) -> bool:
    """Whether this address was ever erased (by its hash, the only trace kept)."""
    digest = email_hash(normalized(raw_email))
    count = db.session.scalar(
        select(func.count()).select_from(Erasure).where(Erasure.email_sha256 == digest)
    )
    return bool(count)


def _held_here(person: Person) -> dict[str, Any]:
    lead = db.session.get(Lead, person.lead_id) if person.lead_id else None
    registrations = [db.session.get(Registration, id_) for id_ in person.registration_ids]
    consents: Iterable[ConsentRecord] = (
        db.session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.lead_id == person.lead_id)
            .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
        )
        if person.lead_id
        else []
    )
    return {
        "lead": _lead(lead) if lead else None,
        "registrations": [_registration(r) for r in registrations if r is not None],
        "consents": [
            {
                "action": record.action,
                "source": record.source,
                "text": record.text,
                "registration_id": record.registration_id,
                "at": iso(record.recorded_at),
            }
            for record in consents
        ],
    }


def _lead(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.id,
        **{name: getattr(lead, name) for name in PERSON_FIELDS},
        "status": lead.status,
        "score": lead.score,
        "consent_marketing": lead.consent_marketing,
        "consent_at": _when(lead.consent_at),
        "consent_text": lead.consent_text,
        "unsubscribed_at": _when(lead.unsubscribed_at),
        "first_touch": _touch(lead, "first"),
        "latest_touch": _touch(lead, "latest"),
        "created_at": _when(lead.created_at),
    }


def _touch(lead: Lead, which: str) -> dict[str, Any]:
    """The campaign that brought the lead first, or most recently."""
    return {
        **{name: getattr(lead, f"{which}_{name}") for name in UTM_FIELDS},
        "at": _when(getattr(lead, f"{which}_touch_at")),
    }


def _registration(registration: Registration) -> dict[str, Any]:
    return {
        "id": registration.id,
        "event": registration.event.slug,
        "event_title": registration.event.title,
        **{name: getattr(registration, name) for name in PERSON_FIELDS},
        "answers": registration.answers or {},
        **{name: getattr(registration, name) for name in (*UTM_FIELDS, *CLICK_TRACES)},
        "consent_marketing": registration.consent_marketing,
        "language": registration.language,
        "status": registration.status,
        "created_at": _when(registration.created_at),
        "cancelled_at": _when(registration.cancelled_at),
        "verified_at": _when(registration.verified_at),
        "attendance": {
            "attended": registration.attended,
            "checked_in_at": _when(registration.checked_in_at),
            "attended_minutes": registration.attended_minutes,
            "joined_at": _when(registration.joined_at),
            "left_at": _when(registration.left_at),
            "questions_asked": registration.questions_asked,
        },
    }


def _anonymise_registrations(person: Person) -> int:
    """Each registration keeps its event, status, seat and attendance, and loses its person;
    a new random manage token makes every old manage link open nothing."""
    count = 0
    for registration_id in person.registration_ids:
        registration = db.session.get(Registration, registration_id)
        if registration is None:
            continue
        address = f"registration-{registration.id}@{ERASED_DOMAIN}"
        registration.email = registration.email_normalized = address
        registration.first_name = ERASED_NAME
        registration.last_name = ""
        registration.company = ""
        registration.job_title = ""
        registration.phone = None
        registration.answers = {}
        for name in CLICK_TRACES:
            setattr(registration, name, None)
        registration.consent_marketing = False
        registration.manage_token = secrets.token_urlsafe(24)
        count += 1
    return count


def _anonymise_lead(person: Person, now: datetime) -> int:
    """The lead stays as an anonymous row (its registrations and follow-ups point at it, and
    lead counts per campaign stay true); consent ends with it."""
    if person.lead_id is None:
        return 0
    lead = db.session.get(Lead, person.lead_id)
    if lead is None:
        return 0
    lead.email = f"lead-{lead.id}@{ERASED_DOMAIN}"
    lead.first_name = ERASED_NAME
    lead.last_name = ""
    lead.company = ""
    lead.job_title = ""
    lead.phone = None
    lead.consent_marketing = False
    lead.consent_at = now
    lead.consent_text = None
    return 1


def _full_name(lead: Lead) -> str:
    return f"{lead.first_name} {lead.last_name}".strip()


def iso(moment: datetime) -> str:
    """A moment as the export writes it: ISO 8601 in UTC, with its offset."""
    return moment.astimezone(UTC).isoformat()


def _when(moment: datetime | None) -> str | None:
    return iso(moment) if moment else None
