"""Personal links: a returning lead's form comes prefilled with what they gave before, the
questions they answered are skipped (and take the stored answers), the email is the link's
lead's own; a tampered link is the plain form, and an existing registration stays hidden."""

from __future__ import annotations

import re

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from app.db import db
from app.registrations.models import Lead, Registration
from app.registrations.personal_links import lead_of, personal_token, personal_url
from app.registrations.questions import add_built_in, add_question, change_question, find_question
from tests.builders import csrf_token, make_event, register_person

HIDDEN = re.compile(r'<input id="(\w+)" name="\1" type="hidden" value="([^"]*)"')


@pytest.fixture
def webinars(app):  # type: ignore[no-untyped-def]
    """Two events asking company size; the first already has Ada's registration and answer."""
    spring = make_event(slug="spring-webinar")
    autumn = make_event(slug="autumn-webinar")
    for event in (spring, autumn):
        add_built_in(event.id, "company_size")
        add_question(event.id, {"key": "topic", "label": "Topic", "type": "text"})
    register_person(
        spring,
        "ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        company="Analytical Engines",
        job_title="Engineer",
        country="GB",
        answers={"company_size": "1000+"},
    )
    db.session.commit()
    return spring, autumn


def ada() -> Lead:
    return db.session.scalars(select(Lead).where(Lead.email == "ada@example.com")).one()


def open_page(client, token):  # type: ignore[no-untyped-def]
    response = client.get(f"/e/autumn-webinar?p={token}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def one_click(client, html, **changes):  # type: ignore[no-untyped-def]
    """Press the button on the page as served: every field as the page filled it in."""
    form = dict(HIDDEN.findall(html))
    for name in ("email", "first_name", "last_name", "company", "job_title", "phone"):
        found = re.search(rf'id="{name}" name="{name}"[^>]* value="([^"]*)"', html)
        form[name] = found.group(1) if found else ""
    country = re.search(r'<option value="(\w\w)" selected>', html)
    form["country"] = country.group(1) if country else ""
    form["csrf_token"] = csrf_token(html)
    form.update(changes)
    return client.post("/e/autumn-webinar", data=form)


def test_the_link_prefills_known_fields_and_skips_answered_questions(client, webinars):
    html = open_page(client, personal_token(ada()))

    assert 'value="ada@example.com"' in html and "readonly" in html
    assert 'value="Lovelace"' in html and 'value="Analytical Engines"' in html
    assert '<option value="GB" selected>' in html
    assert 'name="answers.company_size"' not in html
    assert 'name="answers.topic"' in html


def test_one_click_registers_the_lead_with_the_stored_answer(client, webinars):
    response = one_click(client, open_page(client, personal_token(ada())))

    assert response.status_code == 303
    registration = db.session.scalars(
        select(Registration).where(Registration.event_id == webinars[1].id)
    ).one()
    assert registration.email_normalized == "ada@example.com"
    assert registration.answers == {"company_size": "1000+"}
    assert (registration.company, registration.country) == ("Analytical Engines", "GB")


def test_the_email_is_the_links_lead_whatever_the_form_sends(client, webinars):
    html = open_page(client, personal_token(ada()))

    one_click(client, html, email="mallory@example.com")

    emails = db.session.scalars(
        select(Registration.email_normalized).where(Registration.event_id == webinars[1].id)
    ).all()
    assert emails == ["ada@example.com"]


@pytest.mark.parametrize("tamper", ["x", "flip", "other-salt"])
def test_a_tampered_link_is_the_plain_form(client, webinars, tamper):
    token = personal_token(ada())
    if tamper == "x":
        token = token + "x"
    elif tamper == "flip":
        token = ("A" if token[0] != "A" else "B") + token[1:]
    else:
        token = URLSafeSerializer(client.application.config["SECRET_KEY"], "unsubscribe").dumps(
            [ada().id, "0" * 16]
        )

    html = open_page(client, token)

    assert "Lovelace" not in html and "readonly" not in html
    assert 'name="answers.company_size"' in html
    assert lead_of(token) is None


def test_a_link_to_an_event_already_registered_shows_no_manage_link(client, webinars):
    html = client.get(f"/e/spring-webinar?p={personal_token(ada())}").get_data(as_text=True)
    form = dict(HIDDEN.findall(html))
    form.update(csrf_token=csrf_token(html), email="ada@example.com", first_name="Ada")

    response = client.post("/e/spring-webinar", data=form)

    assert response.status_code == 200
    assert "/r/" not in response.get_data(as_text=True)
    assert "/r/" not in html


def test_one_link_works_for_every_events_page(app, webinars):
    token = personal_token(ada())

    assert personal_url(ada(), "spring-webinar").endswith(f"/e/spring-webinar?p={token}")
    assert personal_url(ada(), "autumn-webinar").endswith(f"/e/autumn-webinar?p={token}")
    assert lead_of(token) == ada()


def test_an_answer_the_question_no_longer_accepts_is_asked_again(client, webinars):
    question = find_question(webinars[1].id, "company_size")
    change_question(question, {"options": ["1-49", "50+"]})
    db.session.commit()

    html = open_page(client, personal_token(ada()))

    assert 'name="answers.company_size"' in html
