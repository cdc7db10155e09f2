"""The registration questions API: anyone reads a published event's questions, admins and
marketers keep them, and answers stay readable when a question changes or goes."""

from __future__ import annotations

import pytest

from app.registrations.models import Registration
from tests.builders import bearer, make_event, make_user

SIZE = {
    "key": "company_size",
    "label": "Company size",
    "type": "select",
    "options": ["1-99", "100-999", "1000+"],
    "required": True,
    "maps_to": "company_size",
}
PERSON = {"email": "ada@example.com", "first_name": "Ada"}


@pytest.fixture
def marketer(app):  # type: ignore[no-untyped-def]
    return bearer(make_user("marketer"))


def questions_path(slug: str = "launch-webinar") -> str:
    return f"/api/v1/events/{slug}/questions"


def test_a_marketer_adds_a_question_and_anyone_reads_it(client, event, marketer):
    created = client.post(questions_path(), json=SIZE, headers=marketer)
    assert created.status_code == 201, created.json
    assert created.json == {
        **SIZE,
        "help": "",
        "show_if": None,
        "position": 1,
    }
    listed = client.get(questions_path())
    assert listed.status_code == 200
    assert listed.json["total"] == 1
    assert [q["key"] for q in listed.json["items"]] == ["company_size"]


def test_a_draft_events_questions_are_for_staff_only(client, app, marketer):
    make_event(slug="secret-draft", status="draft")
    assert (
        client.post(questions_path("secret-draft"), json=SIZE, headers=marketer).status_code == 201
    )
    assert client.get(questions_path("secret-draft")).status_code == 404
    assert client.get(questions_path("secret-draft"), headers=marketer).json["total"] == 1


@pytest.mark.parametrize("role, code", [("admin", 201), ("marketer", 201), ("rep", 403)])
def test_only_admins_and_marketers_add_questions(client, event, role, code):
    headers = bearer(make_user(role))
    assert client.post(questions_path(), json=SIZE, headers=headers).status_code == code


def test_adding_a_question_needs_a_token(client, event):
    assert client.post(questions_path(), json=SIZE).status_code == 401


@pytest.mark.parametrize(
    "change, field",
    [
        ({"key": "Company Size"}, "key"),
        ({"type": "dropdown"}, "type"),
        ({"options": []}, "options"),
        ({"type": "text"}, "options"),
        ({"show_if": {"key": "nothing", "equals": "x"}}, "show_if"),
        ({"maps_to": "territory"}, "maps_to"),
        ({"label": ""}, "label"),
    ],
)
def test_a_question_that_breaks_a_rule_is_refused_naming_its_field(
    client, event, marketer, change, field
):
    response = client.post(questions_path(), json={**SIZE, **change}, headers=marketer)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]


def test_two_questions_of_one_event_cannot_share_a_key_or_a_routing_fact(client, event, marketer):
    client.post(questions_path(), json=SIZE, headers=marketer)
    again = client.post(questions_path(), json=SIZE, headers=marketer)
    assert again.status_code == 422
    assert set(again.json["error"]["fields"]) == {"key", "maps_to"}


def test_a_question_is_changed_and_removed_and_old_answers_stay_readable(client, event, marketer):
    client.post(questions_path(), json=SIZE, headers=marketer)
    registered = client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={**PERSON, "answers": {"company_size": "1000+"}},
    )
    assert registered.status_code == 201, registered.json

    changed = client.patch(
        f"{questions_path()}/company_size",
        json={"label": "Employees", "options": ["1-49", "50+"], "required": False},
        headers=marketer,
    )
    assert changed.status_code == 200, changed.json
    assert (changed.json["label"], changed.json["options"]) == ("Employees", ["1-49", "50+"])
    registration = Registration.query.one()
    assert registration.answers == {"company_size": "1000+"}

    renamed = client.patch(
        f"{questions_path()}/company_size", json={"key": "size"}, headers=marketer
    )
    assert renamed.status_code == 422
    assert "key" in renamed.json["error"]["fields"]

    assert client.delete(f"{questions_path()}/company_size", headers=marketer).status_code == 204
    assert client.get(questions_path()).json["total"] == 0
    assert client.delete(f"{questions_path()}/company_size", headers=marketer).status_code == 404
    admin = bearer(make_user("admin"))
    listed = client.get(f"/api/v1/events/{event.slug}/registrations", headers=admin).json
    assert listed["items"][0]["answers"] == {"company_size": "1000+"}


def test_a_condition_names_another_question_and_one_of_its_options(client, event, marketer):
    client.post(questions_path(), json=SIZE, headers=marketer)
    follow_up = {
        "key": "procurement",
        "label": "Does procurement need to be involved?",
        "type": "checkbox",
        "show_if": {"key": "company_size", "equals": "1000+"},
    }
    assert client.post(questions_path(), json=follow_up, headers=marketer).status_code == 201
    wrong = {**follow_up, "key": "other", "show_if": {"key": "company_size", "equals": "5000+"}}
    refused = client.post(questions_path(), json=wrong, headers=marketer)
    assert refused.status_code == 422
    assert "show_if" in refused.json["error"]["fields"]


def test_the_questions_calls_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert set(paths["/api/v1/events/{slug}/questions"]) >= {"get", "post"}
    assert set(paths["/api/v1/events/{slug}/questions/{key}"]) >= {"patch", "delete"}
    assert set(paths["/api/v1/routing/rules"]) >= {"get", "post"}
    assert set(paths["/api/v1/routing/rules/{rule_id}"]) >= {"patch", "delete"}


def test_conditions_may_not_go_round_in_a_circle(client, event, marketer):
    client.post(questions_path(), json={**SIZE, "required": False}, headers=marketer)
    role = {
        "key": "role",
        "label": "Role",
        "type": "text",
        "show_if": {"key": "company_size", "equals": "1000+"},
    }
    assert client.post(questions_path(), json=role, headers=marketer).status_code == 201
    circle = client.patch(
        f"{questions_path()}/company_size",
        json={"show_if": {"key": "role", "equals": "CTO"}},
        headers=marketer,
    )
    assert circle.status_code == 422
    assert "show_if" in circle.json["error"]["fields"]
