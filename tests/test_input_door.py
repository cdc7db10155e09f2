"""Values no field may hold are refused once, at the door, naming the field: lone UTF-16
surrogates in any JSON body, form or query string, numbers too large for the database in
URLs and query strings, NUL in a slug, and bodies larger than their audience may send."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from app.db import db
from app.events.models import Event
from app.registrations.models import Lead, Registration
from tests.builders import bearer, form_token, log_in, make_user

LONE = "\ud800"
HUGE = "99999999999999999999"


def api_error(response, status: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.json["error"]
    assert set(error) == {"code", "message", "fields"}
    return error


def rows(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# Lone surrogates ------------------------------------------------------------------------------


def test_a_lone_surrogate_in_a_public_registration_is_a_422_naming_the_field(client, event):
    response = client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={"email": "ada@example.com", "first_name": f"Ada{LONE}"},
    )
    error = api_error(response, 422)
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["first_name"]
    assert rows(Registration) == rows(Lead) == 0


def test_a_lone_surrogate_deep_in_answers_is_named_by_its_path(client, event):
    response = client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={
            "email": "ada@example.com",
            "first_name": "Ada",
            "answers": {"team": f"R{LONE}D", "tools": ["ok", LONE]},
        },
    )
    assert set(api_error(response, 422)["fields"]) == {"answers.team", "answers.tools.1"}
    assert rows(Registration) == 0


def test_a_lone_surrogate_in_a_key_is_refused_too(client, event):
    response = client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={"email": "ada@example.com", "first_name": "Ada", "answers": {LONE: "x"}},
    )
    assert api_error(response, 422)["fields"] == {
        "answers.\\ud800": "Remove the lone UTF-16 surrogate from this value."
    }


def test_raw_surrogate_bytes_in_a_json_body_are_refused_like_the_escape(client, event):
    body = b'{"email": "ada@example.com", "first_name": "A\xed\xa0\x80"}'
    response = client.post(
        f"/api/v1/events/{event.slug}/registrations", data=body, content_type="application/json"
    )
    assert list(api_error(response, 422)["fields"]) == ["first_name"]


# Staff API fields where a lone surrogate used to reach the database and answer 500.
STAFF_FIELDS = [
    ("post", "/api/v1/events", "title"),
    ("post", "/api/v1/events", "description"),
    ("post", "/api/v1/events", "location"),
    ("post", "/api/v1/events", "campaign"),
    ("patch", "/api/v1/events/launch-webinar", "title"),
    ("post", "/api/v1/reps", "name"),
    ("post", "/api/v1/reps", "segments"),
    ("patch", "/api/v1/followups/1", "note"),
    ("patch", "/api/v1/followups/1", "reason_note"),
]


@pytest.mark.parametrize(("method", "path", "field"), STAFF_FIELDS)
def test_a_lone_surrogate_in_a_staff_field_is_a_422_naming_it(client, event, method, path, field):
    body: dict[str, Any] = {
        "slug": "new-one",
        "title": "New one",
        "starts_at": "2030-05-04T13:00:00Z",
        "duration_minutes": 60,
        "timezone": "UTC",
        "email": "rita@example.com",
        "name": "Rita",
    }
    body[field] = [LONE] if field == "segments" else f"x{LONE}"
    expected = "segments.0" if field == "segments" else field
    response = getattr(client, method)(path, json=body, headers=bearer(make_user("admin")))
    assert list(api_error(response, 422)["fields"]) == [expected]
    assert rows(Event) == 1


def test_a_lone_surrogate_in_a_query_string_or_form_is_refused(app):
    # Werkzeug keeps invalid UTF-8 percent-escaped in query strings and forms, so a surrogate
    # there can only come from a server in front of us that decoded it; the door checks anyway.
    from werkzeug.datastructures import MultiDict

    from app.inputs import RefusedInput, check_request

    with app.test_request_context("/followups") as context:
        context.request.args = MultiDict({"event": LONE})
        with pytest.raises(RefusedInput) as refused:
            check_request()
    assert refused.value.code == 422
    assert refused.value.fields == {"event": "Remove the lone UTF-16 surrogate from this value."}


def test_surrogate_bytes_in_a_landing_form_never_become_a_500(client, event):
    page = client.get(f"/e/{event.slug}")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
    assert token
    body = (
        f"csrf_token={token.group(1)}&email=ada%40example.com&first_name=A%ED%A0%80"
        "&last_name=L&consent=y"
    )
    response = client.post(
        f"/e/{event.slug}", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code < 500
    for registration in db.session.scalars(select(Registration)):
        registration.first_name.encode("utf-8")


# NUL in a slug --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/e/%00x", "/e/%00x.ics", "/admin/events/%00x", "/admin/events/%00x/report"]
)
def test_nul_in_a_slug_is_a_404_on_every_face(client, event, path):
    if path.startswith("/admin"):
        log_in(client, make_user("admin"))
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_the_one_slug_lookup_finds_no_event_for_a_slug_no_event_could_have(app, event):
    from app.events.services import by_slug, published_by_slug

    for slug in ("\x00", "launch-webinar\x00", "a" * 500):
        assert by_slug(slug) is None
        assert published_by_slug(slug) is None
    assert by_slug("launch-webinar") == event


# Huge integers --------------------------------------------------------------------------------


def _filled(rule: Any, value: str) -> str:
    path = rule.rule
    for name in rule.arguments:
        converter = type(rule._converters[name]).__name__
        path = re.sub(rf"<[^>]*:?{name}>", value if "Int" in converter else "launch-webinar", path)
    return path


def test_every_integer_in_a_url_beyond_the_database_range_is_a_404(app, client, event):
    log_in(client, make_user("admin"))
    int_rules = [
        rule
        for rule in app.url_map.iter_rules()
        if any("Int" in type(c).__name__ for c in rule._converters.values())
    ]
    assert len(int_rules) >= 15
    for rule in int_rules:
        path = _filled(rule, HUGE)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method)
            # Werkzeug answers 405 for a method whose rule matched the shape but not the range.
            expected = {404} if method == "GET" else {404, 405}
            assert response.status_code in expected, (method, path, response.status_code)


def test_the_largest_id_the_database_holds_is_an_ordinary_404(app, client, event):
    log_in(client, make_user("admin"))
    for path in (
        f"/followups/{2**31 - 1}",
        f"/admin/reports/campaigns/{2**31 - 1}",
        f"/admin/settings/staff/{2**31 - 1}",
    ):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize(
    "path",
    [
        f"/followups?page={HUGE}",
        f"/followups?rep={HUGE}",
        "/followups?page=-3",
        f"/admin/events?past_page={HUGE}",
        f"/admin/events/launch-webinar/registrations?page={HUGE}",
        "/admin/events/launch-webinar/registrations?page=%EF%BC%91",
    ],
)
def test_huge_or_odd_numbers_in_query_strings_show_the_first_page(client, event, path):
    log_in(client, make_user("admin"))
    assert client.get(path).status_code == 200


def test_query_numbers_are_read_through_one_helper(app):
    from app.inputs import query_int

    assert query_int({"page": "3"}, "page", 1) == 3
    assert query_int({"page": HUGE}, "page", 1) == 1
    assert query_int({"page": "0"}, "page", 1) == 1
    assert query_int({"page": "٣"}, "page", 1) == 1
    assert query_int({}, "page", 7) == 7
    assert query_int({"rep": "0"}, "rep", 5, low=0) == 0


# Body limits ----------------------------------------------------------------------------------


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    # The real defaults, stated here so the tests read as the contract.
    return {
        **app_config,
        "MAX_CONTENT_LENGTH": 50 * 1024 * 1024,
        "MAX_PUBLIC_BODY_BYTES": 64 * 1024,
        "MAX_STAFF_BODY_BYTES": 1024 * 1024,
        "MAX_WEBHOOK_BODY_BYTES": 256 * 1024,
    }


def test_the_defaults_are_the_contracts_limits(app):
    from app.config import Config

    config = Config(app.instance_path)
    assert config.MAX_PUBLIC_BODY_BYTES == 64 * 1024
    assert config.MAX_UPLOAD_BODY_BYTES == config.MAX_CONTENT_LENGTH == 50 * 1024 * 1024
    assert config.MAX_STAFF_BODY_BYTES == 1024 * 1024
    assert config.MAX_WEBHOOK_BODY_BYTES == 256 * 1024


def test_a_public_api_body_over_64_kb_is_a_413_in_the_api_shape(client, event):
    body = {"email": "ada@example.com", "first_name": "Ada", "company": "x" * 70_000}
    response = client.post(f"/api/v1/events/{event.slug}/registrations", json=body)
    assert api_error(response, 413)["code"] == "too_large"
    assert rows(Registration) == 0


def test_a_public_body_just_under_64_kb_is_read(client, event):
    answers = {f"q{number}": "x" * 2000 for number in range(30)}
    body = {"email": "ada@example.com", "first_name": "Ada", "answers": answers}
    assert 60_000 < len(str(body)) < 64 * 1024
    response = client.post(f"/api/v1/events/{event.slug}/registrations", json=body)
    assert response.status_code == 201


def test_a_landing_form_over_64_kb_is_a_413_page(client, event):
    response = client.post(
        f"/e/{event.slug}",
        data={"email": "ada@example.com", "first_name": "x" * 70_000},
    )
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "<html" in response.text.lower()
    assert rows(Registration) == 0


def test_the_login_form_is_public_and_gets_the_public_limit(client):
    response = client.post("/login", data={"email": "a@example.com", "password": "x" * 70_000})
    assert response.status_code == 413


def test_staff_calls_read_up_to_a_megabyte(client, event):
    admin = bearer(make_user("admin"))
    long = {"description": "d" * 90_000}
    assert (
        client.patch("/api/v1/events/launch-webinar", json=long, headers=admin).status_code == 200
    )
    huge = {"description": "d" * 1_100_000}
    response = client.patch("/api/v1/events/launch-webinar", json=huge, headers=admin)
    assert api_error(response, 413)["code"] == "too_large"


def test_the_stripe_webhook_reads_at_most_256_kb(client):
    response = client.post(
        "/stripe/webhook", data=b"{" + b" " * 300_000 + b"}", content_type="application/json"
    )
    assert response.status_code == 413


def _report(size: int) -> bytes:
    # One person on every row (as a platform lists each time someone rejoined): the size is
    # what is tested, not the making of tens of thousands of walk-ins.
    line = "person@example.com,1\n"
    rows = size // len(line)
    return ("email,minutes\n" + line * rows).encode()


def test_attendance_uploads_keep_the_large_limit_in_the_console_and_the_api(client, event):
    report = _report(2 * 1024 * 1024)
    response = client.post(
        f"/api/v1/events/{event.slug}/attendance",
        data={"file": (io.BytesIO(report), "report.csv")},
        content_type="multipart/form-data",
        headers=bearer(make_user("marketer")),
    )
    assert response.status_code == 200, response.text
    log_in(client, make_user("marketer"))
    token = form_token(client, f"/admin/events/{event.slug}/attendance")
    page = client.post(
        f"/admin/events/{event.slug}/attendance",
        data={"csrf_token": token, "report": (io.BytesIO(report), "report.csv")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 200, page.text[:500]


def test_one_form_field_cannot_fill_memory(app):
    assert app.config["MAX_FORM_MEMORY_SIZE"] <= 1024 * 1024
    assert app.config["MAX_FORM_PARTS"] <= 1000
