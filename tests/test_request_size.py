"""Request bodies have a ceiling, and going over it is a clear 413, not a 500 or a full disk."""

from __future__ import annotations

import io
from typing import Any

import pytest

from tests.builders import csrf_token, log_in, make_event, make_user


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "MAX_CONTENT_LENGTH": 64 * 1024}


def test_the_default_ceiling_fits_the_largest_attendance_report(app):
    from app.config import Config

    assert Config(app.instance_path).MAX_CONTENT_LENGTH == 50 * 1024 * 1024


def test_an_oversized_console_upload_is_refused_with_a_readable_page(client, app):
    event = make_event()
    log_in(client, make_user("marketer"))
    page = client.get(f"/admin/events/{event.slug}/attendance")
    response = client.post(
        f"/admin/events/{event.slug}/attendance",
        data={
            "csrf_token": csrf_token(page.text),
            "report": (io.BytesIO(b"x" * 200_000), "big.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "<html" in response.text.lower()


def test_an_oversized_webhook_body_is_refused_before_it_is_read(client):
    response = client.post(
        "/stripe/webhook", data=b"{" + b" " * 200_000 + b"}", content_type="application/json"
    )
    assert response.status_code == 413
