"""The person page (/leads/<id>), the company page (/companies/<domain>) and the lead search:
what they show, how they are reached, and that a rep sees only what is theirs."""

from __future__ import annotations

from app.db import db
from app.followup.models import CompanyOwner
from tests.builders import csrf_token, log_in, make_event, make_user, register_person
from tests.followup_fixtures import followup_of
from tests.test_followup_list import two_reps_with_leads


def signed_in(app, user):  # type: ignore[no-untyped-def]
    """A browser of its own for each staff member."""
    client = app.test_client()
    log_in(client, user)
    return client


def test_the_person_page_tells_the_whole_story(app, event):
    rita, _emil = two_reps_with_leads(event)
    hot = followup_of("hot@firm.example")
    register_person(
        make_event(slug="autumn-webinar", title="Autumn webinar"),
        "hot@firm.example",
        first_name="Hanna",
        last_name="Hot",
        consent_marketing=True,
    )
    client = signed_in(app, rita)
    token = csrf_token(client.get(f"/followups/{hot.id}").text)
    client.post(
        f"/followups/{hot.id}",
        data={"csrf_token": token, "status": "contacted", "note": "Wants a demo"},
    )
    client = signed_in(app, make_user("admin"))

    page = client.get(f"/leads/{hot.lead_id}")

    assert page.status_code == 200
    html = page.text
    assert "<h1>Hanna Hot</h1>" in html
    # Every registration, with its attendance, answers and source.
    assert "Launch webinar" in html and "Autumn webinar" in html
    assert "60 of 60 min" in html and "team_size: 40" in html and "linkedin" in html
    # Consent history, follow-ups with their notes, and the emails sent.
    assert "Consent history (1)" in html and "given" in html
    assert "Rule “Rest” (every lead) sends it to Rita Rep." in html
    assert "Wants a demo" in html and "Contacted" in html
    assert "Emails sent (" in html and "Emails sent (0)" not in html
    assert f'href="/followups/{hot.id}"' in html
    # The company (not free mail) is a link; the admin reaches the data-subject page too.
    assert 'href="/companies/firm.example"' in html
    assert 'href="/admin/people/hot@firm.example"' in html


def test_a_rep_cannot_open_another_reps_person_page(app, event):
    rita, emil = two_reps_with_leads(event)
    klaus = followup_of("klaus@firma.de")  # Emil's
    hot = followup_of("hot@firm.example")  # Rita's
    client = signed_in(app, rita)
    assert client.get(f"/leads/{hot.lead_id}").status_code == 200
    assert client.get(f"/leads/{klaus.lead_id}").status_code == 404
    assert client.get("/leads/999999").status_code == 404
    client = signed_in(app, emil)
    assert client.get(f"/leads/{klaus.lead_id}").status_code == 200
    assert client.get(f"/leads/{hot.lead_id}").status_code == 404
    # A marketer sees everyone.
    client = signed_in(app, make_user("marketer"))
    assert client.get(f"/leads/{klaus.lead_id}").status_code == 200


def test_the_search_finds_by_name_email_or_company_within_what_the_rep_may_see(app, event):
    rita, _emil = two_reps_with_leads(event)
    client = signed_in(app, make_user("marketer"))
    by_company = client.get("/leads?q=warm co").text
    assert "Walt" in by_company and "Hanna" not in by_company
    assert "Hanna Hot" in client.get("/leads?q=hanna hot").text
    assert "Klaus" in client.get("/leads?q=FIRMA.DE").text
    assert "Nobody matches “zzz”." in client.get("/leads?q=zzz").text
    client = signed_in(app, rita)
    everyone = client.get("/leads").text
    assert "Hanna Hot" in everyone and "Klaus" not in everyone
    assert "Nobody matches" in client.get("/leads?q=klaus").text


def test_the_search_pages_through_many_leads(app, event):
    for number in range(60):
        register_person(event, f"person{number:02}@many.example", last_name=f"Many{number:02}")
    client = signed_in(app, make_user("marketer"))

    first = client.get("/leads?q=many.example").text
    second = client.get("/leads?q=many.example&page=2").text

    assert "60 matches" in first and "Page 1 of 2" in first
    assert first.count('data-lead="') == 50 and second.count('data-lead="') == 10
    assert "Many00" in first and "Many59" in second and "Many59" not in first
    assert 'href="/leads?q=many.example&amp;page=2"' in first
    # A page past the end is an empty page, not an error.
    assert client.get("/leads?q=many.example&page=9").status_code == 200


def test_the_company_page_rolls_up_its_people_for_managers_and_the_owning_rep(app, event):
    rita, emil = two_reps_with_leads(event)
    register_person(event, "bea@firm.example", first_name="Bea", job_title="CFO")
    register_person(event, "someone@gmail.com", first_name="Gee")
    db.session.merge(CompanyOwner(domain="firm.example", rep_id=rita.id))
    db.session.commit()
    client = signed_in(app, make_user("marketer"))

    page = client.get("/companies/firm.example")

    assert page.status_code == 200
    assert "Hanna Hot" in page.text and "Bea" in page.text and "CFO" in page.text
    assert "Walt" not in page.text  # firm2.example is another company
    assert "Launch webinar" in page.text and "Rita Rep" in page.text
    assert client.get("/companies/gmail.com").status_code == 404  # free mail is no company
    assert client.get("/companies/nobody.example").status_code == 404
    # The owning rep opens it, and its people, even one they have no follow-up for yet.
    client = signed_in(app, rita)
    assert client.get("/companies/FIRM.example").status_code == 200
    bea = db.session.scalar(
        db.select(db.metadata.tables["leads"].c.id).where(
            db.metadata.tables["leads"].c.email == "bea@firm.example"
        )
    )
    assert client.get(f"/leads/{bea}").status_code == 200
    client = signed_in(app, emil)
    assert client.get("/companies/firm.example").status_code == 404
    assert client.get(f"/leads/{bea}").status_code == 404


def test_the_person_page_is_linked_from_registrations_and_followups(app, event):
    rita, _emil = two_reps_with_leads(event)
    hot = followup_of("hot@firm.example")
    person = f'href="/leads/{hot.lead_id}"'
    client = signed_in(app, make_user("admin"))
    assert person in client.get(f"/admin/events/{event.slug}/registrations").text
    assert (
        person in client.get(f"/admin/events/{event.slug}/registrations/{hot.registration_id}").text
    )
    client = signed_in(app, rita)
    assert person in client.get("/followups").text
    assert person in client.get(f"/followups/{hot.id}").text
    assert person in client.get("/leads?q=hanna").text
    assert 'href="/leads"' in client.get("/followups").text  # the navigation
