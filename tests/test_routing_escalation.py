"""SLA escalation: overdue follow-ups move on by the rules, or are flagged to an admin."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.db import db
from app.followup.escalation import escalate_overdue
from app.followup.models import Escalation
from app.followup.routing import route_followups
from app.followup.scoring import save_settings
from app.followup.services import update_followup
from app.mail.models import OutboxMessage
from tests.builders import make_user, register_person
from tests.followup_fixtures import after, followup_of, make_rep


def overdue_moment(followup, minutes: int):  # type: ignore[no-untyped-def]
    return followup.due_at + timedelta(minutes=minutes)


def escalation_mail() -> dict[str, str]:
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "followup_escalation")
    ).all()
    return {row.recipient: row.subject for row in rows}


def test_an_overdue_followup_is_reassigned_by_the_rules_and_both_reps_are_told(app, event):
    slow = make_rep("slow@example.com", name="Sam Slow", countries=("DE",))
    quick = make_rep("quick@example.com", name="Quinn Quick", countries=("DE",))
    register_person(event, "klaus@firma.de", country="DE", first_name="Klaus", last_name="Berg")
    route_followups(event.id, now=after(event))
    followup = followup_of("klaus@firma.de")
    assert followup.rep_id == slow.id
    save_settings({"escalate_after_minutes": 60})
    db.session.commit()

    assert escalate_overdue(overdue_moment(followup, 59)) == []
    escalated = escalate_overdue(overdue_moment(followup, 61))

    assert len(escalated) == 1
    followup = followup_of("klaus@firma.de")
    assert followup.rep_id == quick.id
    assert followup.lead.owner_id == quick.id
    assert followup.escalated_at is not None
    assert followup.why == (
        "Overdue by 61 minutes with Sam Slow; no routing rule is set up, so Quinn Quick, "
        "who covers DE, got it by weighted round-robin."
    )
    record = db.session.scalars(select(Escalation)).one()
    assert (record.from_rep_id, record.to_rep_id, record.outcome) == (
        slow.id,
        quick.id,
        "reassigned",
    )
    assert escalation_mail() == {
        "slow@example.com": "Follow-up escalated: Klaus Berg",
        "quick@example.com": "Follow-up reassigned to you: Klaus Berg",
    }
    # The new rep has a fresh due time; nothing escalates again until that is overdue too.
    assert escalate_overdue(overdue_moment(followup, -1)) == []


def test_with_no_one_else_to_take_it_an_overdue_followup_is_flagged_to_admins(app, event):
    only = make_rep("only@example.com", name="Olly Only")
    make_user("admin", "boss@example.com")
    register_person(event, "klaus@firma.de", first_name="Klaus", last_name="Berg")
    route_followups(event.id, now=after(event))
    followup = followup_of("klaus@firma.de")

    escalate_overdue(overdue_moment(followup, 24 * 60))

    followup = followup_of("klaus@firma.de")
    assert followup.rep_id == only.id
    assert followup.flagged_at is not None
    record = db.session.scalars(select(Escalation)).one()
    assert record.outcome == "flagged"
    assert "no other rep could take it" in record.reason
    assert escalation_mail() == {
        "only@example.com": "Follow-up escalated: Klaus Berg",
        "boss@example.com": "Follow-up needs an owner: Klaus Berg",
    }
    # Flagged once: a later pass does not flag it again.
    assert escalate_overdue(overdue_moment(followup, 48 * 60)) == []


def test_a_followup_the_rep_has_acted_on_is_not_escalated(app, event):
    rep = make_rep("rep@example.com")
    make_rep("other@example.com")
    register_person(event, "klaus@firma.de")
    route_followups(event.id, now=after(event))
    followup = followup_of("klaus@firma.de")
    update_followup(followup.id, rep, {"status": "contacted"})

    assert escalate_overdue(overdue_moment(followup, 7 * 24 * 60)) == []
    assert followup_of("klaus@firma.de").rep_id == rep.id
