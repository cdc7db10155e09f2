"""Choosing the registrations table's columns: the usual columns until someone chooses, then
the chosen ones (a column per question answer, country, UTM source, consent), remembered for
that user on every visit and every event, and nobody else's table changes."""

from __future__ import annotations

import re

import pytest

from app.db import db
from app.registrations.questions import add_built_in
from tests.builders import csrf_token, form_token, log_in, make_event, make_user, register_person

TABLE = "/admin/events/launch-webinar/registrations"


@pytest.fixture
def table(app):  # type: ignore[no-untyped-def]
    event = make_event()
    add_built_in(event.id, "company_size")
    register_person(
        event,
        "ada@example.com",
        company="Analytical Engines",
        country="GB",
        utm_source="linkedin",
        consent_marketing=True,
        answers={"company_size": "1000+"},
    )
    db.session.commit()
    return event


def headers(client, path: str = TABLE) -> list[str]:  # type: ignore[no-untyped-def]
    html = client.get(path).get_data(as_text=True)
    head = html.split("<thead>", 1)[1].split("</thead>", 1)[0]
    cells = re.findall(r"<th scope=\"col\"[^>]*>(.*?)</th>", head, re.S)
    words = (re.sub(r"<[^>]+>", " ", cell).replace("▼", "") for cell in cells)
    return [" ".join(text.split()) for text in words]


def choose(client, *columns: str, reset: bool = False):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get(TABLE).get_data(as_text=True))
    data = {"csrf_token": token, "column": list(columns), "back": TABLE}
    if reset:
        data["reset"] = "1"
    return client.post(TABLE + "/columns", data=data)


def test_without_a_choice_the_table_shows_the_usual_columns(client, table):
    log_in(client, make_user("marketer"))

    assert headers(client) == ["Name · Email", "Company", "Status", "Registered", "Actions"]


def test_chosen_columns_show_and_persist_for_that_user(client, table):
    log_in(client, make_user("marketer"))

    response = choose(client, "q:company_size", "country", "utm_source", "consent", "status")

    assert response.status_code == 303
    assert headers(client) == [
        "Name · Email",
        "Company size",
        "Country",
        "UTM source",
        "Consent",
        "Status",
        "Actions",
    ]
    row = client.get(TABLE).get_data(as_text=True).split("<tbody>", 1)[1]
    assert '<td class="answer">1000+</td>' in row
    assert "<td>GB</td>" in row and "linkedin" in row and "<td>Yes</td>" in row
    # Still so on the next visit, and on another event's table.
    assert "Country" in headers(client)
    register_person(make_event(slug="second-webinar"), "grace@example.com")
    db.session.commit()
    assert headers(client, "/admin/events/second-webinar/registrations") == [
        "Name · Email",
        "Country",
        "UTM source",
        "Consent",
        "Status",
        "Actions",
    ]


def test_another_users_table_keeps_the_usual_columns(client, app, table):
    marketer = make_user("marketer")
    log_in(client, marketer)
    choose(client, "country")
    client.post("/logout", data={"csrf_token": form_token(client, "/logout")})

    log_in(client, make_user("admin"))

    assert headers(client) == ["Name · Email", "Company", "Status", "Registered", "Actions"]


def test_reset_brings_back_the_usual_columns(client, table):
    log_in(client, make_user("marketer"))
    choose(client, "country")

    choose(client, reset=True)

    assert headers(client) == ["Name · Email", "Company", "Status", "Registered", "Actions"]


def test_unknown_or_hostile_column_names_are_ignored(client, table):
    log_in(client, make_user("marketer"))

    choose(client, "country", "<script>", "q:../../x", "q:" + "a" * 5000)

    assert headers(client) == ["Name · Email", "Country", "Actions"]
