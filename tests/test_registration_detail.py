"""A registration's own page in the console: the person, what happened, every answer."""

from __future__ import annotations

import re

from app.db import db
from app.registrations.models import Question
from app.registrations.questions import add_question, remove_question
from app.registrations.services import cancel, check_in
from tests.builders import log_in, make_event, make_user, register_person


def test_the_page_shows_the_person_their_history_and_every_answer_by_label(app, client):
    event = make_event(slug="in-person", location="Hall A")
    topics = add_question(
        event.id,
        {"key": "topics", "label": "Topics", "type": "multiselect", "options": ["A", "B"]},
    )
    add_question(event.id, {"key": "demo", "label": "Send me a demo", "type": "checkbox"})
    person = register_person(
        event,
        "ada@firm.example",
        last_name="Lovelace",
        company="Engines <Ltd>",
        answers={"topics": ["A", "B"], "demo": True},
    )
    check_in(person.id)
    cancel(person.id)
    remove_question(db.session.get(Question, topics.id))
    log_in(client, make_user("marketer"))

    table = client.get(f"/admin/events/{event.slug}/registrations").text
    path = f"/admin/events/{event.slug}/registrations/{person.id}"
    assert f'href="{path}"' in table
    response = client.get(path)

    assert response.status_code == 200
    page = response.text
    assert "ada@firm.example" in page and "Engines &lt;Ltd&gt;" in page
    history = page.split('id="history"')[1].split("</ol>")[0]
    assert re.findall(r"</time> ([^<]+)</li>", history) == ["Registered", "Checked in", "Cancelled"]
    answers = page.split('id="answers"')[1].split("</dl>")[0]
    assert "<dt>Send me a demo</dt><dd>yes</dd>" in answers
    # The removed question's answer stays, under its key.
    assert "<dt>topics</dt><dd>A, B</dd>" in answers


def test_the_page_is_for_the_roles_that_see_the_registrations(app, client, event):
    person = register_person(event, "ada@firm.example")
    path = f"/admin/events/{event.slug}/registrations/{person.id}"

    assert client.get(path).status_code in (302, 401)
    log_in(client, make_user("rep", "rep@example.com"))
    assert client.get(path).status_code == 403


def test_a_registration_of_another_event_is_not_found_under_this_one(app, client, event):
    other = make_event(slug="other-webinar")
    person = register_person(other, "ada@firm.example")
    log_in(client, make_user("admin"))

    assert client.get(f"/admin/events/{event.slug}/registrations/{person.id}").status_code == 404
    assert client.get(f"/admin/events/{event.slug}/registrations/999999").status_code == 404
