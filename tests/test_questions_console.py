"""The console's questions editor (add, built-ins in one click, edit, reorder, remove) and the
answers where staff read them: the registrations CSV, the table and the rep's detail page."""

from __future__ import annotations

import csv
import io

from app.registrations.questions import add_built_in, add_question, questions_of, remove_question
from tests.builders import form_token, register_person

EVENT_PAGE = "/admin/events/launch-webinar"


def keys(event_id: int) -> list[str]:
    return [q.key for q in questions_of(event_id)]


def send_question_form(staff, path, **fields):  # type: ignore[no-untyped-def]
    """Fill in the question form on `path` as a marketer would, with `fields` on top."""
    data = {"csrf_token": form_token(staff, path), "show_if_key": "", "maps_to": "", **fields}
    return staff.post(path, data=data)


def test_a_marketer_adds_edits_reorders_and_removes_questions(staff, event):
    added = send_question_form(
        staff,
        f"{EVENT_PAGE}/questions/new",
        key="topics",
        label="Topics",
        type="multiselect",
        options="Routing\nReports\n",
    )
    assert added.status_code == 303, added.text
    token = form_token(staff, EVENT_PAGE)
    built_in = staff.post(
        f"{EVENT_PAGE}/questions/add-built-in", data={"csrf_token": token, "name": "company_size"}
    )
    assert built_in.status_code == 303
    assert keys(event.id) == ["topics", "company_size"]
    size = questions_of(event.id)[1]
    assert (size.options, size.maps_to) == (["1-99", "100-999", "1000+"], "company_size")

    page = staff.get(EVENT_PAGE).text
    assert "Registration questions" in page and "Company size" in page
    staff.post(
        f"{EVENT_PAGE}/questions/company_size/move", data={"csrf_token": token, "direction": "up"}
    )
    assert keys(event.id) == ["company_size", "topics"]

    changed = send_question_form(
        staff,
        f"{EVENT_PAGE}/questions/topics",
        key="topics",
        label="Which topics?",
        type="multiselect",
        options="Routing\nReports",
        required="y",
        show_if_key="company_size",
        show_if_equals="1000+",
    )
    assert changed.status_code == 303, changed.text
    topics = questions_of(event.id)[1]
    assert topics.label == "Which topics?" and topics.required
    assert topics.show_if == {"key": "company_size", "equals": "1000+"}

    removed = staff.post(f"{EVENT_PAGE}/questions/company_size/delete", data={"csrf_token": token})
    assert removed.status_code == 303
    assert keys(event.id) == ["topics"]
    # Its condition named the removed question: it is asked always now.
    assert questions_of(event.id)[0].show_if is None


def test_a_question_the_service_refuses_is_shown_beside_its_field(staff, event):
    add_question(event.id, {"key": "topics", "label": "Topics", "type": "text"})
    response = send_question_form(
        staff, f"{EVENT_PAGE}/questions/new", key="topics", label="Again", type="select", options=""
    )
    assert response.status_code == 422
    assert "Another question of this event has this key." in response.text
    assert "Give at least one option, none of them blank." in response.text


def read_csv(response):  # type: ignore[no-untyped-def]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True)[1:])))


def test_the_csv_has_a_column_per_question_headed_by_its_label(staff, event):
    add_built_in(event.id, "company_size")
    add_question(
        event.id,
        {
            "key": "topics",
            "label": "Topics",
            "type": "multiselect",
            "options": ["Routing", "Reports"],
        },
    )
    register_person(
        event,
        "ada@example.com",
        answers={"company_size": "1000+", "topics": ["Routing", "Reports"]},
    )
    rows = read_csv(staff.get(f"{EVENT_PAGE}/registrations.csv"))
    header, ada = rows[0], rows[1]
    assert header[-3:] == ["Company size", "Topics", "other answers"]
    assert ada[-3:] == ["1000+", "Routing, Reports", ""]


def test_a_removed_questions_answers_stay_in_the_csv_and_the_table_under_their_key(staff, event):
    question = add_question(event.id, {"key": "partner", "label": "Partner", "type": "text"})
    register_person(event, "ada@example.com", answers={"partner": "acme"})
    remove_question(question)
    rows = read_csv(staff.get(f"{EVENT_PAGE}/registrations.csv"))
    assert rows[0][-1] == "other answers"
    assert rows[1][-1] == "partner: acme"
    assert "partner: acme" in staff.get(f"{EVENT_PAGE}/registrations").text


def test_the_registrations_table_shows_answers_by_label(staff, event):
    add_built_in(event.id, "heard_about_us")
    register_person(event, "ada@example.com", answers={"heard_about_us": "Partner"})
    assert "How did you hear about us?: Partner" in staff.get(f"{EVENT_PAGE}/registrations").text
