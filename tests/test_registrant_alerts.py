"""Hot registrant, now: the rep whose lead, company or "alert on registration" rule a new
registrant meets is emailed (real SMTP) and announced (`registration.hot`) by one worker pass,
once; free-mail registrants alert nobody; the thank-you page offers the rep's meeting link."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from app.db import db, utcnow
from app.followup.models import CompanyOwner, RegistrationAlert
from app.followup.rules import save_rule
from app.registrations import approval
from app.registrations.models import Lead
from app.registrations.services import cancel
from app.webhooks import subscriptions
from app.worker import run_due_jobs
from tests.builders import bearer, csrf_token, log_in, make_event, make_user, register_person
from tests.fake_receiver import FakeReceiver
from tests.followup_fixtures import make_rep, set_rep
from tests.smtp import SmtpSink
from tests.test_reserve_your_spot import reserve
from tests.webhooks_fixtures import receiver_fixture  # noqa: F401


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_server: SmtpSink) -> dict[str, Any]:
    return app_config | smtp_server.mail_config | {"WEBHOOKS_ALLOW_PRIVATE": True}


def alerts_to(smtp_server: SmtpSink, address: str) -> list[Any]:
    return [
        r.message
        for r in smtp_server.received
        if address in r.recipients and r.message["Subject"].startswith("Registered just now")
    ]


def text_of(message: Any) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def company_of(domain: str, rep: Any) -> None:
    db.session.add(CompanyOwner(domain=domain, rep_id=rep.id))
    db.session.commit()


def test_a_registrant_whose_company_a_rep_works_alerts_that_rep_once(app, smtp_server):
    ana = make_rep("ana@example.com", name="Ana Rep")
    company_of("acme.example", ana)
    earlier = make_event(slug="spring", title="Spring webinar")
    register_person(earlier, "bob@acme.example", first_name="Bob", company="Acme")
    run_due_jobs()
    event = make_event(slug="summer", title="Summer webinar")
    register_person(
        event, "bob@acme.example", first_name="Bob", company="Acme", answers={"team": "ops"}
    )

    run_due_jobs()
    run_due_jobs()  # a retry, or the next minute's pass: nothing more

    summer = [m for m in alerts_to(smtp_server, "ana@example.com") if "Summer" in m["Subject"]]
    assert len(summer) == 1
    body = text_of(summer[0])
    assert "Bob" in body and "Acme" in body
    assert "works with others at acme.example" in body
    assert "team: ops" in body
    assert "Spring webinar: confirmed" in body
    assert summer[0]["Subject"] == "Registered just now: Bob for Summer webinar"


def test_a_free_mail_registrant_alerts_nobody(app, smtp_server):
    ana = make_rep("ana@example.com")
    # Even a stray company row for a webmail domain does not make its users Ana's.
    company_of("gmail.com", ana)
    register_person(make_event(), "someone@gmail.com")

    run_due_jobs()

    assert alerts_to(smtp_server, "ana@example.com") == []
    alert = db.session.scalars(select(RegistrationAlert)).one()
    assert alert.status == "none"


def test_the_owner_of_the_lead_is_alerted(app, smtp_server):
    olga = make_rep("olga@example.com", name="Olga")
    make_rep("other@example.com")
    register_person(make_event(slug="first"), "kim@gmail.com", first_name="Kim")
    run_due_jobs()  # nobody's yet
    lead = db.session.scalars(select(Lead).where(Lead.email == "kim@gmail.com")).one()
    lead.owner_id = olga.id
    db.session.commit()
    register_person(make_event(slug="second", title="Second webinar"), "kim@gmail.com")

    run_due_jobs()

    (alert,) = alerts_to(smtp_server, "olga@example.com")
    assert "Second webinar" in alert["Subject"]
    assert "Olga owns this lead." in text_of(alert)
    assert alerts_to(smtp_server, "other@example.com") == []


def test_a_rule_marked_alert_on_registration_alerts_its_rep_and_an_unmarked_one_does_not(
    app, smtp_server
):
    emil = make_rep("emil@example.com", name="Emil")
    rita = make_rep("rita@example.com", name="Rita")
    save_rule(
        None,
        {
            "name": "Germany",
            "countries": ["DE"],
            "target_rep_id": emil.id,
            "alert_on_registration": True,
        },
    )
    save_rule(None, {"name": "France", "countries": ["FR"], "target_rep_id": rita.id})
    event = make_event()
    register_person(event, "hans@firma.example", country="DE")
    register_person(event, "jean@societe.example", country="FR")

    run_due_jobs()

    (alert,) = alerts_to(smtp_server, "emil@example.com")
    assert "Rule “Germany” alerts on registration (country DE)." in text_of(alert)
    assert alerts_to(smtp_server, "rita@example.com") == []


def test_the_alert_is_delivered_as_a_registration_hot_webhook_in_the_same_pass(
    app, receiver: FakeReceiver
):
    secret = subscriptions.subscribe(receiver.url, ["registration.hot"]).secret
    ana = make_rep("ana@example.com", name="Ana")
    company_of("acme.example", ana)
    register_person(make_event(), "bob@acme.example", first_name="Bob", answers={"team": "ops"})
    register_person(make_event(slug="other"), "eve@gmail.com")

    run_due_jobs()
    run_due_jobs()

    bodies = [Webhook(secret).verify(r.body, r.headers) for r in receiver.received]
    (hot,) = [body for body in bodies if body["type"] == "registration.hot"]
    assert hot["data"]["email"] == "bob@acme.example"
    assert hot["data"]["rep"]["email"] == "ana@example.com"
    assert hot["data"]["answers"] == [{"label": "team", "answer": "ops"}]
    assert hot["data"]["history"] == []
    assert len(receiver.received) == 1


def test_an_unverified_registration_waits_and_a_cancelled_one_alerts_nobody(app, smtp_server):
    ana = make_rep("ana@example.com")
    company_of("acme.example", ana)

    registration = register_person(make_event(), "bob@acme.example")
    cancel(registration.id)

    run_due_jobs()

    assert alerts_to(smtp_server, "ana@example.com") == []


def test_the_thank_you_page_offers_book_time_only_with_a_rep_who_has_a_meeting_link(app, client):
    ana = make_rep("ana@example.com", name="Ana Rep")
    set_rep(ana, meeting_url="https://cal.example/ana")
    make_rep("rob@example.com", name="Rob Rep")
    company_of("acme.example", ana)
    make_event()

    page = reserve(client, email="bob@acme.example", follow_redirects=False)
    thanks = client.get(page.headers["Location"]).get_data(as_text=True)
    assert "Book time with Ana Rep" in thanks
    assert 'href="https://cal.example/ana" target="_blank" rel="noopener noreferrer"' in thanks
    # Answered by the page itself: the worker has not run, so no alert is sent yet.
    assert db.session.scalars(select(RegistrationAlert)).one().status == "pending"

    page = reserve(client, email="carl@gmail.com")
    thanks = client.get(page.headers["Location"]).get_data(as_text=True)
    assert "Book time" not in thanks


def test_a_rep_without_a_meeting_link_is_not_offered(app, client):
    rob = make_rep("rob@example.com", name="Rob Rep")
    company_of("acme.example", rob)
    make_event()
    page = reserve(client, email="bob@acme.example")
    assert "Book time" not in client.get(page.headers["Location"]).get_data(as_text=True)


def test_the_rules_api_and_the_console_form_set_alert_on_registration(app, client):
    rep = make_rep("emil@example.com")
    admin = make_user("admin")
    headers = bearer(admin)
    created = client.post(
        "/api/v1/routing/rules",
        json={"name": "DE", "conditions": {"countries": ["DE"]}, "rep": rep.email},
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["alert_on_registration"] is False
    changed = client.patch(
        f"/api/v1/routing/rules/{created.get_json()['id']}",
        json={"alert_on_registration": True},
        headers=headers,
    )
    assert changed.get_json()["alert_on_registration"] is True

    log_in(client, admin)
    form = client.get(f"/admin/routing/rules/{created.get_json()['id']}")
    (box,) = re.findall(r"<input[^>]*alert_on_registration[^>]*>", form.get_data(as_text=True))
    assert "checked" in box


def test_the_reps_api_sets_a_meeting_link_and_refuses_one_that_is_not_a_web_address(app, client):
    rep = make_rep("emil@example.com")
    headers = bearer(make_user("admin"))
    good = client.patch(
        f"/api/v1/reps/{rep.id}", json={"meeting_url": "https://cal.example/e"}, headers=headers
    )
    assert good.status_code == 200, good.get_json()
    assert good.get_json()["meeting_url"] == "https://cal.example/e"
    bad = client.patch(
        f"/api/v1/reps/{rep.id}", json={"meeting_url": "javascript:alert(1)"}, headers=headers
    )
    assert bad.status_code == 422
    assert "meeting_url" in bad.get_json()["error"]["fields"]


def test_alerts_go_out_within_one_pass_even_for_many_registrants(app, smtp_server):
    ana = make_rep("ana@example.com")
    company_of("acme.example", ana)
    event = make_event(capacity=None)
    for n in range(5):
        register_person(event, f"p{n}@acme.example", now=utcnow() - timedelta(minutes=n))

    run_due_jobs()

    assert len(alerts_to(smtp_server, "ana@example.com")) == 5


def test_declining_a_registration_is_announced_as_registration_declined(
    app, receiver: FakeReceiver
):
    secret = subscriptions.subscribe(receiver.url, ["registration.declined"]).secret
    event = make_event(requires_approval=True)
    hal = register_person(event, "hal@example.com", first_name="Hal")
    approval.decline(hal.id)

    run_due_jobs()
    run_due_jobs()

    (body,) = [Webhook(secret).verify(r.body, r.headers) for r in receiver.received]
    assert body["type"] == "registration.declined"
    assert body["data"]["registration_id"] == hal.id
    assert body["data"]["status"] == "declined"


def test_a_rep_sets_their_own_meeting_link_and_an_admin_sets_it_on_the_staff_page(app, client):
    rep = make_rep("emil@example.com")
    log_in(client, rep)
    page = client.get("/followups/meeting-link")
    refused = client.post(
        "/followups/meeting-link",
        data={"csrf_token": csrf_token(page.get_data(as_text=True)), "meeting_url": "ftp://x"},
    )
    assert refused.status_code == 422
    assert "https://" in refused.get_data(as_text=True)
    saved = client.post(
        "/followups/meeting-link",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "meeting_url": "https://cal.example/emil",
        },
    )
    assert saved.status_code == 302
    db.session.refresh(rep.rep_profile)
    assert rep.rep_profile.meeting_url == "https://cal.example/emil"

    admin_browser = app.test_client()
    log_in(admin_browser, make_user("admin", "boss@example.com"))
    staff_page = admin_browser.get(f"/admin/settings/staff/{rep.id}").get_data(as_text=True)
    assert 'value="https://cal.example/emil"' in staff_page
