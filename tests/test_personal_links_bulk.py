"""Personal links in bulk: a marketing tool's CSV of emails comes back with each person's
personal link (emails not yet leads become leads, marked so), read whatever its separator
and header; the API gives the same links; only admins and marketers make them."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from app.db import db
from app.registrations.models import Lead
from app.registrations.personal_links import lead_of
from tests.builders import bearer, csrf_token, form_token, log_in, make_user, register_person

HUBSPOT_EXPORT = (
    "Record ID;First Name;Last Name;Email;Contact owner\r\n"
    "101;Ada;Lovelace;ADA@example.com;owner@example.com\r\n"
    "102;Grace;Hopper;grace@example.com;owner@example.com\r\n"
    "103;No;Address;;owner@example.com\r\n"
    "104;Ada;Again;ada@example.com;owner@example.com\r\n"
)


@pytest.fixture
def known_ada(event):  # type: ignore[no-untyped-def]
    register_person(event, "ada@example.com", first_name="Ada", last_name="Byron")
    db.session.commit()


def upload(client, data: bytes):  # type: ignore[no-untyped-def]
    token = form_token(client, "/admin/events/launch-webinar")
    return client.post(
        "/admin/events/launch-webinar/personal-links",
        data={"csrf_token": token, "file": (io.BytesIO(data), "contacts.csv")},
        content_type="multipart/form-data",
    )


def rows_of(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.content_type.startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_a_contact_export_comes_back_with_a_link_per_person(client, app, known_ada):
    log_in(client, make_user("marketer"))

    rows = rows_of(upload(client, HUBSPOT_EXPORT.encode("utf-8-sig")))

    assert list(rows[0]) == ["email", "first_name", "last_name", "personal_link", "new_lead"]
    assert [(row["email"], row["new_lead"]) for row in rows] == [
        ("ada@example.com", "no"),
        ("grace@example.com", "yes"),
    ]
    # A known lead keeps the name we hold; a new one takes the list's.
    assert (rows[0]["first_name"], rows[0]["last_name"]) == ("Ada", "Byron")
    assert (rows[1]["first_name"], rows[1]["last_name"]) == ("Grace", "Hopper")
    for row in rows:
        link = row["personal_link"]
        assert link.startswith(app.config["BASE_URL"] + "/e/launch-webinar?p=")
        assert lead_of(link.split("?p=", 1)[1]).email == row["email"]


def test_the_links_open_the_prefilled_form(client, app, known_ada):
    log_in(client, make_user("marketer"))
    link = rows_of(upload(client, b"email\nada@example.com\n"))[0]["personal_link"]
    client.post("/logout", data={"csrf_token": form_token(client, "/logout")})

    html = client.get(link.removeprefix(app.config["BASE_URL"])).get_data(as_text=True)

    assert 'value="Byron"' in html and "Welcome back, Ada" in html


def test_a_plain_list_of_addresses_without_a_header_is_read(client, event):
    log_in(client, make_user("marketer"))

    rows = rows_of(upload(client, b"grace@example.com\r\nlinus@example.com\r\nnot an email\r\n"))

    assert [row["email"] for row in rows] == ["grace@example.com", "linus@example.com"]
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 2


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "no email addresses"),
        (b"name\nAda\n", "no email addresses"),
        (b"\xff\xfe\x00\x00\xc3\x28", "binary file"),
        ("email\nada@example.com\n".encode("latin-1") + b"\xe9\n", "not UTF-8"),
    ],
)
def test_a_file_without_addresses_is_refused_and_makes_no_lead(client, event, data, words):
    log_in(client, make_user("marketer"))

    response = upload(client, data)

    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert words in page
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 0


def test_a_rep_may_not_make_personal_links(client, event):
    log_in(client, make_user("rep"))
    token = csrf_token(client.get("/followups").get_data(as_text=True))

    response = client.post(
        "/admin/events/launch-webinar/personal-links",
        data={"csrf_token": token, "file": (io.BytesIO(b"ada@example.com"), "c.csv")},
        content_type="multipart/form-data",
    )

    assert response.status_code in (403, 404)
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 0


def test_the_api_gives_the_same_links_and_says_which_leads_are_new(client, event, known_ada):
    marketer = bearer(make_user("marketer"))

    response = client.post(
        "/api/v1/events/launch-webinar/personal-links",
        json={"emails": ["Ada@Example.com", "grace@example.com", "grace@example.com"]},
        headers=marketer,
    )

    assert response.status_code == 200, response.json
    assert (response.json["total"], response.json["new_leads"]) == (2, 1)
    items = response.json["items"]
    assert [(item["email"], item["new_lead"]) for item in items] == [
        ("ada@example.com", False),
        ("grace@example.com", True),
    ]
    token = items[0]["personal_link"].split("?p=", 1)[1]
    assert lead_of(token).email == "ada@example.com"


def test_the_api_refuses_a_list_with_a_bad_address_naming_it(client, event):
    marketer = bearer(make_user("marketer"))

    response = client.post(
        "/api/v1/events/launch-webinar/personal-links",
        json={"emails": ["grace@example.com", "not-an-email"]},
        headers=marketer,
    )

    assert response.status_code == 422
    assert "emails.1" in response.json["error"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 0


@pytest.mark.parametrize(("role", "status"), [("anonymous", 401), ("rep", 403), ("admin", 200)])
def test_only_managers_call_the_personal_links_api(client, event, role, status):
    headers = {} if role == "anonymous" else bearer(make_user(role))

    response = client.post(
        "/api/v1/events/launch-webinar/personal-links",
        json={"emails": ["grace@example.com"]},
        headers=headers,
    )

    assert response.status_code == status
    expected_leads = 1 if status == 200 else 0
    assert db.session.scalar(select(func.count()).select_from(Lead)) == expected_leads
