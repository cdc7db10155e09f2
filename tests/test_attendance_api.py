"""POST /api/v1/events/<slug>/attendance: a report as multipart `file`, answered with counts."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from app.db import db
from app.events.models import Event
from app.registrations.models import Registration
from tests.builders import make_user, token_for
from tests.test_attendance_import import FIXTURES, webinar_with_registrants

URL = "/api/v1/events/launch-webinar/attendance"


@pytest.fixture
def webinar(app) -> Event:  # type: ignore[no-untyped-def]
    return webinar_with_registrants()


def bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(make_user(role))}"}


def upload(client, headers, name="zoom_webinar_attendee_report.csv", url=URL):  # type: ignore[no-untyped-def]
    with (FIXTURES / name).open("rb") as handle:
        return client.post(url, headers=headers, data={"file": (handle, name)})


@pytest.mark.parametrize("role", ["marketer", "admin"])
def test_a_manager_imports_a_report_and_gets_the_counts(client, webinar, role):
    response = upload(client, bearer(role))

    assert response.status_code == 200, response.json
    assert response.json == {"attended": 3, "no_show": 2, "unmatched": 1}
    minutes = db.session.scalar(
        select(Registration.attended_minutes).where(
            Registration.email_normalized == "ada@example.com"
        )
    )
    assert minutes == 58


def test_sending_the_same_report_twice_answers_the_same_and_changes_nothing(client, webinar):
    headers = bearer("marketer")
    first = upload(client, headers, "gotowebinar_attendee_report.csv")
    rows = db.session.execute(
        select(Registration.id, Registration.attended_minutes, Registration.updated_at)
    ).all()

    second = upload(client, headers, "gotowebinar_attendee_report.csv")

    db.session.expire_all()
    assert second.json == first.json
    assert (
        db.session.execute(
            select(Registration.id, Registration.attended_minutes, Registration.updated_at)
        ).all()
        == rows
    )


def test_without_a_token_the_answer_is_401(client, webinar):
    response = upload(client, {})

    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert db.session.get(Event, webinar.id).attendance_imported_at is None


def test_a_rep_may_not_import_attendance(client, webinar):
    response = upload(client, bearer("rep"))

    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    assert db.session.get(Event, webinar.id).attendance_imported_at is None


def test_a_file_that_is_not_a_report_is_refused_with_the_reason_for_the_file_field(client, webinar):
    response = upload(client, bearer("marketer"), "unrelated.csv")

    assert response.status_code == 422
    error = response.json["error"]
    assert "found columns: name, company, country" in error["message"]
    assert "found columns" in error["fields"]["file"]
    assert db.session.get(Event, webinar.id).attendance_imported_at is None


@pytest.mark.parametrize("name", ["empty.csv", "latin1.csv"])
def test_an_empty_or_wrongly_encoded_file_is_a_422_not_a_500(client, webinar, name):
    response = upload(client, bearer("marketer"), name)

    assert response.status_code == 422
    assert response.json["error"]["fields"]["file"]


def test_a_binary_file_is_a_422(client, webinar):
    response = client.post(
        URL,
        headers=bearer("marketer"),
        data={"file": (io.BytesIO(b"\x00\x01\x02PNG\x00" * 100), "photo.png")},
    )

    assert response.status_code == 422
    assert "binary" in response.json["error"]["message"]


def test_a_request_without_the_file_names_the_missing_field(client, webinar):
    response = client.post(URL, headers=bearer("marketer"), data={"other": "x"})

    assert response.status_code == 422
    assert "file" in str(response.json["error"]["fields"])


def test_an_unknown_event_is_a_404(client, webinar):
    response = upload(client, bearer("marketer"), url="/api/v1/events/nope/attendance")

    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_the_call_is_in_the_openapi_document_as_a_multipart_upload(client):
    document = client.get("/api/v1/openapi.json").json

    operation = document["paths"]["/api/v1/events/{slug}/attendance"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]
