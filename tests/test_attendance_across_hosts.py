"""Two web hosts behind one load balancer: two app instances, each with its own instance
folder, on one database. A marketer uploads an attendance report on one and clicks "Apply" on
the other; the preview lives in the database, so the import goes through, once."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app import create_app
from app.db import db
from app.events.models import Event
from app.followup.attendance.previews import AttendancePreview
from app.registrations.models import Registration
from tests.builders import csrf_token, log_in, make_user
from tests.test_attendance_import import FIXTURES, webinar_with_registrants

PAGE = "/admin/events/launch-webinar/attendance"
APPLY = PAGE + "/apply"
TOKEN_INPUT = re.compile(r'name="token" type="hidden" value="([^"]+)"')


@pytest.fixture
def hosts(app_config: dict[str, Any], tmp_path: Path) -> Iterator[tuple[Flask, Flask]]:
    # Same database and SECRET_KEY (as every host must share), separate instance folders.
    host_a = create_app({**app_config, "INSTANCE_PATH": str(tmp_path / "host-a")})
    host_b = create_app({**app_config, "INSTANCE_PATH": str(tmp_path / "host-b")})
    assert host_a.instance_path != host_b.instance_path
    yield host_a, host_b
    for host in (host_a, host_b):
        with host.app_context():
            db.session.remove()
            db.engine.dispose()


def behind_the_same_browser(source: FlaskClient, target: FlaskClient) -> None:
    """The load balancer sends the same browser (its session cookie) to the other host."""
    cookie = source.get_cookie("session")
    assert cookie is not None
    target.set_cookie("session", cookie.value)


def upload(client: FlaskClient) -> str:
    name = "zoom_webinar_attendee_report.csv"
    response = client.post(
        PAGE,
        data={
            "csrf_token": csrf_token(client.get(PAGE).text),
            "report": (io.BytesIO((FIXTURES / name).read_bytes()), name),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.text
    return response.text


def test_a_report_uploaded_on_one_host_is_applied_on_the_other(hosts):
    host_a, host_b = hosts
    on_a, on_b = host_a.test_client(), host_b.test_client()
    with host_a.app_context():
        webinar_with_registrants()
        log_in(on_a, make_user("marketer"))

    preview = upload(on_a)
    behind_the_same_browser(on_a, on_b)
    applied = on_b.post(
        APPLY,
        data={"csrf_token": csrf_token(preview), "token": TOKEN_INPUT.search(preview).group(1)},
    )

    assert applied.status_code == 303
    summary = on_b.get(applied.headers["Location"]).text
    assert "3 attended, 2 no-shows, 1 in the report without a registration" in summary
    with host_b.app_context():
        event = db.session.scalars(select(Event)).one()
        assert event.attendance_imported_at is not None
        ada = db.session.scalars(
            select(Registration).where(Registration.email_normalized == "ada@example.com")
        ).one()
        assert ada.attended_minutes == 58
        assert db.session.scalar(select(func.count()).select_from(AttendancePreview)) == 0
    # Clicked again on the first host: already applied, nothing imported twice.
    again = on_a.post(
        APPLY,
        data={"csrf_token": csrf_token(preview), "token": TOKEN_INPUT.search(preview).group(1)},
        follow_redirects=True,
    )
    assert "expired or was already applied" in again.text
    # Neither host kept the report on its own disk.
    for host in hosts:
        kept = [p for p in Path(host.instance_path).rglob("*") if p.is_file()]
        assert not [p for p in kept if "walkin@example.org" in p.read_text(errors="replace")]


def test_another_marketer_on_the_other_host_cannot_apply_the_preview(hosts):
    host_a, host_b = hosts
    on_a, on_b = host_a.test_client(), host_b.test_client()
    with host_a.app_context():
        webinar_with_registrants()
        log_in(on_a, make_user("marketer"))
        log_in(on_b, make_user("marketer"))
    preview = upload(on_a)
    token = TOKEN_INPUT.search(preview).group(1)

    stolen = on_b.post(
        APPLY,
        data={"csrf_token": csrf_token(on_b.get(PAGE).text), "token": token},
        follow_redirects=True,
    )

    assert "expired or was already applied" in stolen.text
    with host_b.app_context():
        assert db.session.scalar(select(func.count()).select_from(AttendancePreview)) == 1
