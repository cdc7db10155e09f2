"""Source links: made in the console, opened by visitors, carried through the form, counted in
the event's report; an unknown code is harmless and only managers may make or remove links."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.db import db, utcnow
from app.privacy.people import erase_person
from app.registrations import source_links
from app.registrations.models import Registration, SourceLink
from tests.builders import csrf_token, form_token, log_in, make_event, make_user
from tests.test_routes_roles import _csrf

HIDDEN = re.compile(r'<input id="(\w+)" name="\1" type="hidden" value="([^"]*)"')


def reserve(client, query="", email="ada@example.com"):  # type: ignore[no-untyped-def]
    """Open the landing page at `query`, then send the form with what its hidden fields hold."""
    html = client.get(f"/e/launch-webinar{query}").get_data(as_text=True)
    form = dict(HIDDEN.findall(html))
    form.update(csrf_token=csrf_token(html), email=email, first_name="Ada", last_name="Lovelace")
    return client.post("/e/launch-webinar", data=form)


@pytest.fixture
def event(app):  # type: ignore[no-untyped-def]
    return make_event()


@pytest.fixture
def linkedin(event):  # type: ignore[no-untyped-def]
    return source_links.create_link(
        event.id,
        {
            "name": "LinkedIn ad",
            "utm_source": "linkedin",
            "utm_medium": "paid_social",
            "utm_campaign": "spring",
            "utm_term": "webinar",
            "utm_content": "banner-a",
        },
    )


def test_a_registration_through_a_link_keeps_the_link_and_every_parameter(client, linkedin):
    response = reserve(client, f"?src={linkedin.code}&gclid=G-1&fbclid=F-2&utm_source=other")

    assert response.status_code == 303
    registration = db.session.scalars(select(Registration)).one()
    assert registration.source_link_id == linkedin.id
    assert (registration.utm_source, registration.utm_medium) == ("linkedin", "paid_social")
    assert (registration.utm_campaign, registration.utm_term) == ("spring", "webinar")
    assert registration.utm_content == "banner-a"
    assert (registration.gclid, registration.fbclid) == ("G-1", "F-2")


def test_the_form_keeps_term_and_content_without_a_link(client, event):
    reserve(client, "?utm_source=news&utm_term=crm&utm_content=footer")

    registration = db.session.scalars(select(Registration)).one()
    assert registration.source_link_id is None
    assert (registration.utm_source, registration.utm_term) == ("news", "crm")
    assert registration.utm_content == "footer"


def test_opening_the_link_counts_one_visit_each_time(client, linkedin):
    client.get(f"/e/launch-webinar?src={linkedin.code}")
    client.get(f"/e/launch-webinar?src={linkedin.code}")
    client.head(f"/e/launch-webinar?src={linkedin.code}")

    db.session.expire_all()
    assert db.session.get(SourceLink, linkedin.id).visits == 2


@pytest.mark.parametrize("code", ["nosuchxx", "x' OR 1=1 --", "%00", "A" * 5000, ""])
def test_an_unknown_or_hostile_code_still_shows_the_landing_page(client, linkedin, code):
    response = client.get("/e/launch-webinar", query_string={"src": code})

    assert response.status_code == 200
    assert "Launch webinar" in response.text
    assert 'name="src" type="hidden" value=""' in response.text
    db.session.expire_all()
    assert db.session.get(SourceLink, linkedin.id).visits == 0


def test_another_events_code_is_not_counted_nor_recorded(client, linkedin):
    make_event(slug="other-webinar", title="Other webinar")
    client.get(f"/e/other-webinar?src={linkedin.code}")
    db.session.expire_all()
    assert db.session.get(SourceLink, linkedin.id).visits == 0


def test_the_report_counts_visits_registrations_attended_and_qualified(client, linkedin):
    reserve(client, f"?src={linkedin.code}", "ada@example.com")
    reserve(client, f"?src={linkedin.code}", "bob@example.com")
    reserve(client, "", "cy@example.com")
    ada = db.session.scalars(select(Registration).filter_by(email="ada@example.com")).one()
    ada.checked_in_at = utcnow()
    ada.lead.status = "qualified"
    db.session.commit()
    log_in(client, make_user("marketer"))

    page = client.get("/admin/events/launch-webinar/report").text

    table = page.split('id="links-table"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r'<td class="num">(\d+)</td>', table)
    assert "LinkedIn ad" in table
    assert cells == ["2", "2", "1", "1"]
    assert "Registrations by source link" in page


def test_a_marketer_creates_copies_and_deletes_a_link(client, event):
    log_in(client, make_user("marketer"))
    token = form_token(client, "/admin/events/launch-webinar")

    created = client.post(
        "/admin/events/launch-webinar/source-links",
        data={
            "csrf_token": token,
            "name": "Partner newsletter",
            "utm_source": "partner",
            "utm_medium": "email",
        },
    )

    assert created.status_code == 303
    link = db.session.scalars(select(SourceLink)).one()
    page = client.get("/admin/events/launch-webinar").text
    assert f"http://localhost/e/launch-webinar?src={link.code}" in page
    deleted = client.post(
        f"/admin/events/launch-webinar/source-links/{link.id}/delete", data={"csrf_token": token}
    )
    assert deleted.status_code == 303
    assert db.session.scalars(select(SourceLink)).all() == []


def test_a_link_without_name_source_or_medium_is_refused_by_field(client, event):
    log_in(client, make_user("marketer"))
    token = form_token(client, "/admin/events/launch-webinar")

    client.post("/admin/events/launch-webinar/source-links", data={"csrf_token": token})

    page = client.get("/admin/events/launch-webinar").text
    assert "Enter the link&#39;s name." in page
    assert "Enter the link&#39;s medium." in page
    assert db.session.scalars(select(SourceLink)).all() == []


def test_without_a_csrf_token_nothing_is_created(client, event):
    log_in(client, make_user("marketer"))
    response = client.post(
        "/admin/events/launch-webinar/source-links",
        data={"name": "X", "utm_source": "x", "utm_medium": "y"},
    )
    assert response.status_code == 400
    assert db.session.scalars(select(SourceLink)).all() == []


@pytest.mark.parametrize("role", ["rep", None])
def test_reps_and_strangers_may_not_touch_links(app, client, linkedin, role):
    if role:
        log_in(client, make_user(role))
    token = _csrf(client, app)
    created = client.post(
        "/admin/events/launch-webinar/source-links",
        data={"csrf_token": token, "name": "X", "utm_source": "x", "utm_medium": "y"},
    )
    deleted = client.post(
        f"/admin/events/launch-webinar/source-links/{linkedin.id}/delete",
        data={"csrf_token": token},
    )

    assert created.status_code == deleted.status_code == (403 if role else 302)
    assert db.session.scalars(select(SourceLink)).all() == [linkedin]


def test_erasing_the_person_drops_their_click_ids_and_keeps_the_link_count(client, linkedin):
    reserve(client, f"?src={linkedin.code}&gclid=G-1&fbclid=F-2")

    erase_person("ada@example.com", actor="test", source="test")

    registration = db.session.scalars(select(Registration)).one()
    assert (registration.gclid, registration.fbclid, registration.utm_term) == (None, None, None)
    assert registration.source_link_id == linkedin.id
    assert source_links.links_of(linkedin.event_id)[0].visits == 1
