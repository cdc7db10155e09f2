"""When the database is really unavailable (a PostgreSQL nobody listens for, a SQLite file whose
folder is gone), every request answers 503 with `Retry-After`: the API's error shape, a
friendly page in the public layout for visitors, never a 500."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.db import db
from tests.builders import csrf_token, log_in, make_event, make_user

FORM = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}


def _config(instance: Path, url: str, **extra: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "RATELIMIT_ENABLED": False,
        "BASE_URL": "http://testserver",
        "MAIL_SERVER": None,
        "FORM_MIN_FILL_SECONDS": 0,
        **extra,
    }


def _closed_port() -> int:
    # A port that was free a moment ago and that nothing listens on now.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def assert_outage(response: Any, *, api: bool = False) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    if api:
        assert response.json["error"]["code"] == "unavailable"
        assert "Retry-After" in response.json["error"]["message"]
        assert set(response.json["error"]) == {"code", "message", "fields"}
    else:
        assert response.mimetype == "text/html"
        assert "try again in a minute" in response.text
        # The public layout, with the security headers every page carries.
        assert 'class="site-header"' in response.text
        assert "Content-Security-Policy" in response.headers


@pytest.fixture
def unreachable_postgres(tmp_path: Path) -> Iterator[Flask]:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/reserve"
    # No CSRF here: no form could be served by a site that never reached its database.
    app = create_app(_config(tmp_path / "instance", url, WTF_CSRF_ENABLED=False))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_a_postgresql_nobody_listens_for_gives_503s_with_retry_after(unreachable_postgres):
    client = unreachable_postgres.test_client()

    assert_outage(client.get("/"))
    assert_outage(client.get("/e/launch-webinar"))
    posted = client.post("/e/launch-webinar", data=FORM)
    assert_outage(posted)
    assert "We could not take your registration just now" in posted.text
    assert_outage(client.post("/api/v1/events/launch-webinar/registrations", json=FORM), api=True)
    assert_outage(
        client.post(
            "/api/v1/events/launch-webinar/registrations",
            json=FORM,
            headers={"Idempotency-Key": "retry-1"},
        ),
        api=True,
    )
    assert_outage(client.get("/api/v1/events"), api=True)


def test_healthz_still_says_the_database_is_down_its_own_way(unreachable_postgres):
    answer = unreachable_postgres.test_client().get("/healthz")

    assert answer.status_code == 503
    assert answer.json == {"status": "database unavailable"}


@pytest.fixture
def vanishing_sqlite(tmp_path: Path) -> Iterator[tuple[Flask, Path]]:
    folder = tmp_path / "database"
    folder.mkdir()
    app = create_app(_config(tmp_path / "instance", f"sqlite:///{folder / 'app.db'}"))
    with app.app_context():
        db.create_all()
        make_event()
        yield app, folder
        db.session.remove()
        db.engine.dispose()


def _break(folder: Path) -> None:
    # Close every pooled connection (an open file outlives its folder), then take the folder:
    # the next connection cannot open the database.
    db.session.remove()
    db.engine.dispose()
    shutil.rmtree(folder)


def test_a_sqlite_database_whose_folder_is_gone_gives_503s_mid_visit(vanishing_sqlite):
    app, folder = vanishing_sqlite
    client = app.test_client()
    page = client.get("/e/launch-webinar")
    assert page.status_code == 200
    token = csrf_token(page.text)

    _break(folder)

    assert_outage(client.get("/e/launch-webinar"))
    posted = client.post("/e/launch-webinar", data={**FORM, "csrf_token": token})
    assert_outage(posted)
    assert "We could not take your registration just now" in posted.text
    assert_outage(client.post("/api/v1/events/launch-webinar/registrations", json=FORM), api=True)
    assert_outage(
        client.post(
            "/api/v1/events/launch-webinar/registrations",
            json=FORM,
            headers={"Idempotency-Key": "retry-1"},
        ),
        api=True,
    )


def test_a_signed_in_console_page_gives_503_not_500(vanishing_sqlite):
    app, folder = vanishing_sqlite
    client: FlaskClient = app.test_client()
    log_in(client, make_user("marketer"))
    assert client.get("/admin/events").status_code == 200

    _break(folder)

    answer = client.get("/admin/events")
    assert answer.status_code == 503, answer.text
    assert int(answer.headers["Retry-After"]) > 0
    assert "try again in a minute" in answer.text
    assert answer.headers["Cache-Control"] == "no-store"


PARTNER = "https://www.partner.example"
SHOP = "https://shop.example"


def frame_ancestors(response: Any) -> str:
    policy = response.headers["Content-Security-Policy"]
    return next(part for part in policy.split("; ") if part.startswith("frame-ancestors"))


def served(app: Flask, method: str, path: str, **kwargs: Any) -> Any:
    """One request in an app context of its own, as a server gives it: `g` is per request
    there, while the fixture's context would carry one response's framing into the next."""
    with app.app_context():
        return app.test_client().open(path, method=method, **kwargs)


def test_the_embeds_outage_page_may_be_framed_by_the_events_embed_origins(vanishing_sqlite):
    app, folder = vanishing_sqlite
    app.config["EMBED_ORIGINS"] = (PARTNER,)
    make_event(slug="partner-day", embed_origins=SHOP)
    framed = served(app, "GET", "/e/partner-day/embed")
    assert framed.status_code == 200
    expected = f"frame-ancestors 'self' {PARTNER} {SHOP}"
    assert frame_ancestors(framed) == expected

    _break(folder)

    for answer in (
        served(app, "GET", "/e/partner-day/embed"),
        served(app, "POST", "/e/partner-day/embed", data=FORM),
    ):
        assert_outage(answer)
        # The partner's page shows the "try again" page in its frame, not a broken frame.
        assert frame_ancestors(answer) == expected
        assert "X-Frame-Options" not in answer.headers
    # Every other page still refuses frames, outage or not.
    plain = served(app, "GET", "/e/partner-day")
    assert_outage(plain)
    assert frame_ancestors(plain) == "frame-ancestors 'none'"


def test_an_embed_never_served_before_the_outage_may_be_framed_by_every_events_origins(
    unreachable_postgres,
):
    unreachable_postgres.config["EMBED_ORIGINS"] = (PARTNER,)
    answer = served(unreachable_postgres, "GET", "/e/partner-day/embed")
    assert_outage(answer)
    assert frame_ancestors(answer) == f"frame-ancestors 'self' {PARTNER}"
