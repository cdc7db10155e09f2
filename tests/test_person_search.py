"""One person search: the console's registrations table, the API's registrations list and the
API's leads find the same people for the same text (email, full name or company, case ignored;
`%` and `_` are plain characters; runs of spaces count as one)."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient

from app.registrations.search import SEARCH_LENGTH, search_text
from tests.builders import bearer, make_event, make_user, register_person

PEOPLE = {
    "ada@analytical.example": {"first_name": "Ada", "last_name": "Lovelace", "company": "Engines"},
    "grace@navy.example": {"first_name": "Grace", "last_name": "Hopper", "company": "US Navy"},
    "linus@example.org": {"first_name": "Linus", "company": "100%_Kernel"},
    "a_b@example.com": {"first_name": "Ab"},
    "axb@example.com": {"first_name": "Axb"},
}

SEARCHES = [
    ("NAVY", {"grace@navy.example"}),
    ("grace hopper", {"grace@navy.example"}),
    ("ada   lovelace", {"ada@analytical.example"}),
    ("  engines ", {"ada@analytical.example"}),
    ("%", {"linus@example.org"}),
    ("100%_", {"linus@example.org"}),
    ("a_b", {"a_b@example.com"}),
    ("_", {"a_b@example.com", "linus@example.org"}),
    ("example.com", {"a_b@example.com", "axb@example.com"}),
    ("nobody", set()),
]


@pytest.fixture
def faces(client: FlaskClient, staff: FlaskClient):  # type: ignore[no-untyped-def]
    """For each face, a function from a search text to the emails it lists."""
    event = make_event()
    for email, fields in PEOPLE.items():
        register_person(event, email, **fields)
    headers = bearer(make_user("admin"))

    def console(text: str) -> set[str]:
        html = staff.get(f"/admin/events/{event.slug}/registrations?q={quote(text)}").text
        return set(re.findall(r'<span class="sub email">([^<]+)</span>', html))

    def api(path: str):  # type: ignore[no-untyped-def]
        def listed(text: str) -> set[str]:
            response = client.get(f"{path}?q={quote(text)}", headers=headers)
            assert response.status_code == 200, response.json
            return {item["email"] for item in response.json["items"]}

        return listed

    return {
        "console": console,
        "api registrations": api(f"/api/v1/events/{event.slug}/registrations"),
        "api leads": api("/api/v1/leads"),
    }


@pytest.mark.parametrize(("text", "expected"), SEARCHES)
def test_the_console_and_the_api_find_the_same_people(faces, text, expected):
    found = {name: listed(text) for name, listed in faces.items()}
    assert found == {name: expected for name in faces}


def test_the_search_text_is_tidied_the_same_for_every_face():
    assert search_text(" ada \t\x00 love ") == "ada love"
    assert search_text(None) == ""
    assert len(search_text("x" * 5000)) == SEARCH_LENGTH
