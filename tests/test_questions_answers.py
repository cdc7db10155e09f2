"""Answers to an event's own questions are judged by one rule, whether they come through the
landing form or the API: the same answers are kept, the same ones refused, naming the same
`answers.<key>`; a question hidden by its condition is never required and its answer dropped."""

from __future__ import annotations

import pytest

from app.db import db
from app.registrations.models import Registration
from app.registrations.questions import add_question
from tests.builders import register_person
from tests.questions_fixtures import ask_every_kind, form_errors, post_landing_form

# (form inputs, the API's answers, the answers refused, the answers kept)
CASES = {
    "only the required answer": (
        {"answers.company_size": "100-999"},
        {"company_size": "100-999"},
        set(),
        {"company_size": "100-999"},
    ),
    "a required answer missing": ({}, {}, {"answers.company_size"}, None),
    "an option not offered": (
        {"answers.company_size": "5000+"},
        {"company_size": "5000+"},
        {"answers.company_size"},
        None,
    ),
    "a shown conditional question left unanswered": (
        {"answers.company_size": "1000+"},
        {"company_size": "1000+", "procurement": False},
        {"answers.procurement"},
        None,
    ),
    "a shown conditional question answered": (
        {"answers.company_size": "1000+", "answers.procurement": "y"},
        {"company_size": "1000+", "procurement": True},
        set(),
        {"company_size": "1000+", "procurement": True},
    ),
    "a hidden conditional question's answer is dropped": (
        {"answers.company_size": "1-99", "answers.procurement": "y"},
        {"company_size": "1-99", "procurement": True},
        set(),
        {"company_size": "1-99"},
    ),
    "a number that is not one": (
        {"answers.company_size": "1-99", "answers.employees": "lots"},
        {"company_size": "1-99", "employees": "lots"},
        {"answers.employees"},
        None,
    ),
    "a number, a country, choices and text": (
        {
            "answers.company_size": "1-99",
            "answers.employees": "250",
            "answers.hq": "de",
            "answers.topics": ["Reports", "Routing"],
            "answers.notes": "Line one\nline two",
            "answers.partner": "acme",
        },
        {
            "company_size": "1-99",
            "employees": 250,
            "hq": "de",
            "topics": ["Reports", "Routing"],
            "notes": "Line one\nline two",
            "partner": "acme",
        },
        set(),
        {
            "company_size": "1-99",
            "employees": 250,
            "hq": "DE",
            "topics": ["Reports", "Routing"],
            "notes": "Line one\nline two",
            "partner": "acme",
        },
    ),
    "a choice not offered among several": (
        {"answers.company_size": "1-99", "answers.topics": ["Routing", "Pricing"]},
        {"company_size": "1-99", "topics": ["Routing", "Pricing"]},
        {"answers.topics"},
        None,
    ),
    "a country that is none": (
        {"answers.company_size": "1-99", "answers.hq": "ZZ"},
        {"company_size": "1-99", "hq": "ZZ"},
        {"answers.hq"},
        None,
    ),
}


@pytest.mark.parametrize("form, api, refused, kept", list(CASES.values()), ids=list(CASES))
def test_the_form_and_the_api_accept_and_refuse_the_same_answers(
    client, event, form, api, refused, kept
):
    ask_every_kind(event.id)
    by_form = post_landing_form(client, event.slug, "form@example.com", form)
    by_api = client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={"email": "api@example.com", "first_name": "Ada", "answers": api},
    )
    if refused:
        assert by_form.status_code == by_api.status_code == 422
        assert form_errors(by_form) == set(by_api.json["error"]["fields"]) == refused
        assert Registration.query.count() == 0
    else:
        assert by_form.status_code == 303, form_errors(by_form)
        assert by_api.status_code == 201, by_api.json
        stored = {r.email: r.answers for r in Registration.query}
        assert stored == {"form@example.com": kept, "api@example.com": kept}


def test_the_form_shows_the_error_beside_the_question_and_keeps_the_answers(client, event):
    ask_every_kind(event.id)
    response = post_landing_form(
        client, event.slug, "ada@example.com", {"answers.company_size": "1000+"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="q-procurement-error">Tick this box to register.</p>' in html
    assert '<option value="1000+" selected>' in html


@pytest.mark.parametrize(
    "answers, field",
    [
        ({"company_size": "1-99", "surprise": "x"}, "answers.surprise"),
        ({"company_size": "1-99", "procurement": "yes"}, None),
        ({"company_size": "1000+", "procurement": "yes"}, "answers.procurement"),
        ({"company_size": "1-99", "topics": "Routing"}, "answers.topics"),
        ({"company_size": "1-99", "employees": "250"}, "answers.employees"),
        ({"company_size": ["1-99"]}, "answers.company_size"),
    ],
)
def test_the_api_refuses_unknown_keys_and_wrong_types(client, event, answers, field):
    ask_every_kind(event.id)
    response = client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={"email": "ada@example.com", "first_name": "Ada", "answers": answers},
    )
    if field is None:
        # The wrong answer belongs to a question not asked: it is dropped, not judged.
        assert response.status_code == 201, response.json
        assert Registration.query.one().answers == {"company_size": "1-99"}
    else:
        assert response.status_code == 422, response.json
        assert set(response.json["error"]["fields"]) == {field}


def test_an_event_without_questions_keeps_any_answers_object(client, event):
    response = client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={"email": "ada@example.com", "first_name": "Ada", "answers": {"segment": "smb"}},
    )
    assert response.status_code == 201
    assert Registration.query.one().answers == {"segment": "smb"}


def test_a_hidden_question_is_filled_from_the_address_of_the_page(client, event):
    add_question(event.id, {"key": "partner", "label": "Partner", "type": "hidden"})
    page = client.get(f"/e/{event.slug}?partner=acme")
    assert '<input type="hidden" name="answers.partner" value="acme">' in page.text
    response = post_landing_form(client, event.slug, "ada@example.com", {"answers.partner": "acme"})
    assert response.status_code == 303
    assert Registration.query.one().answers == {"partner": "acme"}


def test_without_javascript_a_conditional_question_is_asked_with_its_condition_in_words(
    client, event
):
    ask_every_kind(event.id)
    html = client.get(f"/e/{event.slug}").get_data(as_text=True)
    assert "Answer only if “Company size” is “1000+”." in html
    assert 'data-show-if-key="company_size"' in html
    assert "questions.js" in html
    # Answered otherwise, the server neither asks for it nor keeps it.
    response = post_landing_form(
        client, event.slug, "ada@example.com", {"answers.company_size": "100-999"}
    )
    assert response.status_code == 303
    assert Registration.query.one().answers == {"company_size": "100-999"}


def test_staff_adding_someone_by_hand_need_not_know_the_required_answers(app, event):
    ask_every_kind(event.id)
    registration = register_person(event, "ada@example.com", by_staff=True)
    db.session.refresh(registration)
    assert registration.answers == {}


def test_every_question_is_labelled_on_the_landing_page(client, event):
    ask_every_kind(event.id)
    html = client.get(f"/e/{event.slug}").get_data(as_text=True)
    for label in ("Company size", "Employees", "Topics", "Headquarters", "Anything else?"):
        assert label in html
    assert 'for="q-company_size">Company size <span class="required">(required)</span>' in html
