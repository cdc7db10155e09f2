"""/api/v1/followups and the routing call, per the contract's field names and access rules."""

from __future__ import annotations

from datetime import timedelta

from app.db import db, utcnow
from app.followup.rules import save_rule
from tests.builders import make_user, register_person, token_for
from tests.followup_fixtures import attend, followup_of, make_rep


def bearer(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {token_for(user)}"}


def ended(event) -> None:  # type: ignore[no-untyped-def]
    """Move the event into the past (its registrants are already in)."""
    event.starts_at = utcnow() - timedelta(hours=3)
    event.ends_at = event.starts_at + timedelta(minutes=event.duration_minutes)
    db.session.commit()


def routed_event(client, event):  # type: ignore[no-untyped-def]
    rita = make_rep("rita@example.com", name="Rita Rep")
    emil = make_rep("emil@example.com", name="Emil Rep")
    save_rule(None, {"name": "Germany", "countries": ["DE"], "target_rep_id": emil.id})
    save_rule(None, {"name": "Rest", "target_rep_id": rita.id})
    register_person(event, "us@firm.example", first_name="Uma", country="US", company="Firm")
    register_person(event, "de@firma.example", first_name="Dirk", country="DE")
    attend(event, {"us@firm.example": 45})
    ended(event)
    marketer = make_user("marketer", "m@example.com")
    response = client.post(f"/api/v1/events/{event.slug}/followups", headers=bearer(marketer))
    assert response.status_code == 200, response.get_json()
    return rita, emil, response.get_json()


def test_routing_through_the_api_answers_counts_by_rep_and_never_duplicates(app, client, event):
    _rita, _emil, body = routed_event(client, event)
    marketer = make_user("marketer", "m2@example.com")

    again = client.post(f"/api/v1/events/{event.slug}/followups", headers=bearer(marketer))

    assert body == {"created": 2, "by_rep": {"rita@example.com": 1, "emil@example.com": 1}}
    assert again.get_json() == {"created": 0, "by_rep": {}}


def test_routing_an_unknown_or_unfinished_event_is_refused(app, client, event):
    marketer = make_user("marketer", "m@example.com")
    unknown = client.post("/api/v1/events/nope/followups", headers=bearer(marketer))
    early = client.post(f"/api/v1/events/{event.slug}/followups", headers=bearer(marketer))
    rep = client.post(
        f"/api/v1/events/{event.slug}/followups", headers=bearer(make_rep("r@example.com"))
    )

    assert unknown.status_code == 404
    assert early.status_code == 409
    assert "has not ended" in early.get_json()["error"]["message"]
    assert rep.status_code == 403


def test_a_rep_lists_only_their_own_followups_with_the_contract_fields(app, client, event):
    rita, _emil, _ = routed_event(client, event)

    body = client.get("/api/v1/followups", headers=bearer(rita)).get_json()

    assert body["total"] == 1 and body["next"] is None
    item = body["items"][0]
    assert set(item) >= {
        "id",
        "lead",
        "event",
        "rep",
        "status",
        "priority",
        "due_at",
        "why",
        "attended_minutes",
    }
    assert item["event"] == event.slug
    assert item["rep"] == "rita@example.com"
    assert item["priority"] in ("hot", "warm", "cold")
    assert item["attended_minutes"] == 45
    assert item["why"].startswith("Rule “Rest”")
    assert item["lead"]["email"] == "us@firm.example"
    assert item["lead"]["owner"] == "rita@example.com"
    assert item["lead"]["events"] == [event.slug]
    assert item["due_at"].endswith("+00:00")


def test_another_reps_followup_and_lead_answer_404(app, client, event):
    rita, _emil, _ = routed_event(client, event)
    theirs = followup_of("de@firma.example")

    read = client.get(f"/api/v1/followups/{theirs.id}", headers=bearer(rita))
    patch = client.patch(
        f"/api/v1/followups/{theirs.id}", json={"status": "converted"}, headers=bearer(rita)
    )
    lead = client.get(f"/api/v1/leads/{theirs.lead_id}", headers=bearer(rita))

    assert (read.status_code, patch.status_code, lead.status_code) == (404, 404, 404)
    assert read.get_json()["error"]["code"] == "not_found"
    assert followup_of("de@firma.example").status == "open"


def test_an_admin_sees_every_followup(app, client, event):
    routed_event(client, event)
    admin = make_user("admin", "boss@example.com")
    body = client.get("/api/v1/followups?limit=1", headers=bearer(admin)).get_json()
    assert body["total"] == 2
    assert body["next"] is not None and "offset=1" in body["next"]


def test_a_rep_records_a_verdict_and_a_disqualification_needs_a_reason(app, client, event):
    rita, _emil, _ = routed_event(client, event)
    mine = followup_of("us@firm.example")
    path = f"/api/v1/followups/{mine.id}"

    missing = client.patch(path, json={"status": "disqualified"}, headers=bearer(rita))
    wrong = client.patch(
        path, json={"status": "disqualified", "reason": "vibes"}, headers=bearer(rita)
    )
    bad_status = client.patch(path, json={"status": "won"}, headers=bearer(rita))
    done = client.patch(
        path,
        json={"status": "disqualified", "reason": "competitor", "note": "Signed with X"},
        headers=bearer(rita),
    )

    assert missing.status_code == 422
    assert missing.get_json()["error"]["fields"] == {"reason": "Say why the lead is disqualified."}
    assert wrong.status_code == 422 and "reason" in wrong.get_json()["error"]["fields"]
    assert bad_status.status_code == 422 and "status" in bad_status.get_json()["error"]["fields"]
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert (body["status"], body["reason"]) == ("disqualified", "competitor")
    assert body["lead"]["status"] == "disqualified"
    assert body["lead"]["score"] == 0


def test_a_marketer_may_route_but_not_read_reps_lists(app, client, event):
    marketer = make_user("marketer", "m@example.com")
    assert client.get("/api/v1/followups", headers=bearer(marketer)).status_code == 403
    assert client.get("/api/v1/followups").status_code == 401
