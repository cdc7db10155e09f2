"""The console's attendance import: upload, preview (nothing saved), apply, summary."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from app.db import db
from app.events.models import Event
from app.registrations.models import Registration
from tests.builders import csrf_token, log_in, make_user
from tests.test_attendance_import import FIXTURES, webinar_with_registrants

PAGE = "/admin/events/launch-webinar/attendance"
APPLY = PAGE + "/apply"
TOKEN_INPUT = re.compile(r'name="token" type="hidden" value="([^"]+)"')


@pytest.fixture
def webinar(app) -> Event:  # type: ignore[no-untyped-def]
    return webinar_with_registrants()


@pytest.fixture
def marketer(client):  # type: ignore[no-untyped-def]
    user = make_user("marketer")
    log_in(client, user)
    return user


def imported_at(event: Event):  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.get(Event, event.id).attendance_imported_at


def minutes_of(email: str) -> float | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Registration.attended_minutes).where(Registration.email_normalized == email)
    )


def upload(client, name: str = "zoom_webinar_attendee_report.csv", data: bytes | None = None):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get(PAGE).text)
    body = data if data is not None else (FIXTURES / name).read_bytes()
    return client.post(
        PAGE,
        data={"csrf_token": token, "report": (io.BytesIO(body), name)},
        content_type="multipart/form-data",
    )


def test_upload_shows_the_preview_and_saves_nothing(client, webinar, marketer):
    response = upload(client)

    assert response.status_code == 200
    page = response.text
    assert 'id="count-attended">3<' in page
    assert 'id="count-no-show">2<' in page
    assert 'id="count-unmatched">1<' in page
    assert "walkin@example.org" in page
    assert "dee@example.com" in page
    assert "Zoom attendee report" in page
    assert imported_at(webinar) is None
    assert minutes_of("ada@example.com") is None


def test_applying_the_preview_saves_it_and_shows_a_summary(client, webinar, marketer):
    preview = upload(client).text

    response = client.post(
        APPLY,
        data={"csrf_token": csrf_token(preview), "token": TOKEN_INPUT.search(preview).group(1)},
    )

    assert response.status_code == 303
    assert imported_at(webinar) is not None
    assert minutes_of("ada@example.com") == 58
    assert minutes_of("dee@example.com") == 0
    summary = client.get(response.headers["Location"]).text
    assert "3 attended, 2 no-shows, 1 in the report without a registration" in summary


def test_a_preview_is_applied_once_only(client, webinar, marketer):
    preview = upload(client).text
    form = {"csrf_token": csrf_token(preview), "token": TOKEN_INPUT.search(preview).group(1)}
    client.post(APPLY, data=form)
    first = imported_at(webinar)

    again = client.post(APPLY, data=form, follow_redirects=True)

    assert "expired or was already applied" in again.text
    assert imported_at(webinar) == first


def test_apply_without_the_csrf_token_is_refused(client, webinar, marketer):
    preview = upload(client).text

    response = client.post(APPLY, data={"token": TOKEN_INPUT.search(preview).group(1)})

    assert response.status_code == 400
    assert imported_at(webinar) is None


def test_upload_without_the_csrf_token_is_refused(client, webinar, marketer):
    body = (FIXTURES / "plain_email_minutes.csv").read_bytes()

    response = client.post(
        PAGE, data={"report": (io.BytesIO(body), "a.csv")}, content_type="multipart/form-data"
    )

    assert response.status_code == 400
    assert minutes_of("ada@example.com") is None


def test_a_made_up_token_applies_nothing(client, webinar, marketer):
    token = csrf_token(client.get(PAGE).text)

    response = client.post(
        APPLY, data={"csrf_token": token, "token": "../../secret_key"}, follow_redirects=True
    )

    assert "expired or was already applied" in response.text
    assert imported_at(webinar) is None


def test_another_persons_preview_cannot_be_applied(app, client, webinar, marketer):
    preview = upload(client).text
    stolen = TOKEN_INPUT.search(preview).group(1)
    other = app.test_client()
    log_in(other, make_user("marketer"))
    token = csrf_token(other.get(PAGE).text)

    other.post(APPLY, data={"csrf_token": token, "token": stolen})

    assert imported_at(webinar) is None


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("unrelated.csv", None, "found columns: name, company, country"),
        ("empty.csv", None, "The file is empty"),
        ("latin1.csv", None, "not UTF-8 text"),
        ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
    ],
)
def test_a_bad_file_is_shown_with_the_reason_next_to_the_field(
    client, webinar, marketer, name, data, words
):
    response = upload(client, name, data)

    assert response.status_code == 422
    assert words in response.text
    assert 'aria-invalid="true"' in response.text
    assert imported_at(webinar) is None


def test_no_file_chosen_names_the_field(client, webinar, marketer):
    token = csrf_token(client.get(PAGE).text)

    response = client.post(PAGE, data={"csrf_token": token}, content_type="multipart/form-data")

    assert response.status_code == 422
    assert "Choose the attendee report to upload." in response.text


def test_a_rep_cannot_open_the_import_page(client, webinar):
    log_in(client, make_user("rep"))

    assert client.get(PAGE).status_code == 403


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, webinar):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
