"""A person and a company as staff read them: one lead's whole story (registrations,
attendance, answers, consent, follow-ups with their notes, emails sent) and one company's
people, found by email domain. Who may open which is decided here once: managers see everyone,
a rep the leads they own or work and the companies they own."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, exists, false, func, literal, or_, select, true
from sqlalchemy.orm import joinedload, selectinload

from app.db import db
from app.followup.models import CompanyOwner, FollowUp, FollowUpNote
from app.followup.rules import email_domain, is_free_mail
from app.mail.models import OutboxMessage
from app.models import MANAGER_ROLES, User
from app.registrations.models import ConsentRecord, Lead, Registration
from app.registrations.search import lead_matches, search_text

# What erasure leaves of a person: never listed.
ERASED_SUFFIX = "@erased.invalid"
# The longest domain name DNS allows.
DOMAIN_LENGTH = 253


def sees_everyone(user: User) -> bool:
    return user.role in MANAGER_ROLES


def _owned_domain_of_lead(user: User) -> ColumnElement[bool]:
    return exists().where(
        CompanyOwner.rep_id == user.id,
        Lead.email.endswith(literal("@") + CompanyOwner.domain),
    )


def lead_visible_to(user: User) -> ColumnElement[bool]:
    """The leads `user` may open: all for admins and marketers; for a rep the leads they own,
    those with a follow-up assigned to them and the people of the companies they own."""
    if sees_everyone(user):
        return true()
    if user.role != "rep":
        return false()
    works = exists().where(FollowUp.lead_id == Lead.id, FollowUp.rep_id == user.id)
    return or_(Lead.owner_id == user.id, works, _owned_domain_of_lead(user))


def visible_leads(user: User) -> Select[tuple[Lead]]:
    return select(Lead).where(lead_visible_to(user), ~Lead.email.endswith(ERASED_SUFFIX))


def search(user: User, raw: str | None) -> Select[tuple[Lead]]:
    """The search page's query: by name, email or company (any part, case ignored), by name."""
    query = visible_leads(user)
    text = search_text(raw)
    if text:
        query = query.where(lead_matches(text))
    return query.order_by(
        func.lower(Lead.last_name), func.lower(Lead.first_name), Lead.email, Lead.id
    )


def find_lead(user: User, lead_id: int) -> Lead | None:
    """The lead, or None when it does not exist or is not `user`'s to see (both a 404)."""
    return db.session.scalar(visible_leads(user).where(Lead.id == lead_id))


def company_domain(email: str) -> str | None:
    """The company an address belongs to, by its domain; None for free mail (gmail.com…)."""
    domain = email_domain(email)
    if not domain or "@" not in email or is_free_mail(domain):
        return None
    return domain


def may_open_company(user: User, domain: str) -> bool:
    if sees_everyone(user):
        return True
    owner = db.session.get(CompanyOwner, domain)
    return owner is not None and owner.rep_id == user.id


@dataclass
class PersonStory:
    """Everything the person page shows, loaded in a fixed number of queries."""

    lead: Lead
    registrations: list[Registration]
    consents: list[ConsentRecord]
    followups: list[FollowUp]
    emails: list[OutboxMessage]
    owner: User | None
    domain: str | None
    company_owner: User | None
    open_followups: set[int] = field(default_factory=set)


def story(user: User, lead: Lead) -> PersonStory:
    registrations = list(
        db.session.scalars(
            select(Registration)
            .where(Registration.lead_id == lead.id)
            .options(joinedload(Registration.event))
            .order_by(Registration.created_at.desc(), Registration.id.desc())
        )
    )
    consents = list(
        db.session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.lead_id == lead.id)
            .order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc())
        )
    )
    followups = list(
        db.session.scalars(
            select(FollowUp)
            .where(FollowUp.lead_id == lead.id)
            .options(
                joinedload(FollowUp.event),
                joinedload(FollowUp.rep),
                selectinload(FollowUp.notes).joinedload(FollowUpNote.author),
            )
            .order_by(FollowUp.created_at.desc(), FollowUp.id.desc())
        )
    )
    to_person = [func.lower(OutboxMessage.recipient) == lead.email]
    if registrations:
        to_person.append(OutboxMessage.registration_id.in_([r.id for r in registrations]))
    emails = list(
        db.session.scalars(
            select(OutboxMessage)
            .where(or_(*to_person))
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        )
    )
    domain = company_domain(lead.email)
    company_owner = None
    if domain is not None:
        row = db.session.get(CompanyOwner, domain)
        company_owner = db.session.get(User, row.rep_id) if row else None
    # A rep opens only their own follow-ups; the others are listed, not linked.
    mine = {f.id for f in followups if sees_everyone(user) or f.rep_id == user.id}
    return PersonStory(
        lead=lead,
        registrations=registrations,
        consents=consents,
        followups=followups,
        emails=emails,
        owner=db.session.get(User, lead.owner_id) if lead.owner_id else None,
        domain=domain,
        company_owner=company_owner,
        open_followups=mine,
    )


@dataclass
class CompanyPerson:
    lead: Lead
    events: list[Registration]
    rep: User | None


@dataclass
class Company:
    domain: str
    owner: User | None
    people: list[CompanyPerson]
    names: list[str]


def company(domain: str) -> Company | None:
    """A company by its email domain: its people, what each came to, who works each."""
    domain = domain.strip().lower()
    if not domain or len(domain) > DOMAIN_LENGTH or is_free_mail(domain) or "@" in domain:
        return None
    leads = list(
        db.session.scalars(
            select(Lead)
            .where(Lead.email.endswith("@" + domain, autoescape=True))
            .where(~Lead.email.endswith(ERASED_SUFFIX))
            .options(selectinload(Lead.registrations).joinedload(Registration.event))
            .order_by(func.lower(Lead.last_name), func.lower(Lead.first_name), Lead.email)
        )
    )
    if not leads:
        return None
    row = db.session.get(CompanyOwner, domain)
    reps = {
        user.id: user
        for user in db.session.scalars(
            select(User).where(
                User.id.in_(
                    {lead.owner_id for lead in leads if lead.owner_id}
                    | ({row.rep_id} if row else set())
                )
            )
        )
    }
    people = [
        CompanyPerson(
            lead=lead,
            events=sorted(lead.registrations, key=lambda r: r.event.starts_at, reverse=True),
            rep=reps.get(lead.owner_id) if lead.owner_id else None,
        )
        for lead in leads
    ]
    names = sorted({lead.company for lead in leads if lead.company})
    return Company(domain, reps.get(row.rep_id) if row else None, people, names)
