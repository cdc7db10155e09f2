"""Registrations through the API are rate-limited per address, and the refusal is JSON."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app import create_app
from app.db import db
from app.registrations.models import Registration
from tests.builders import make_event

REGISTER = "/api/v1/events/launch-webinar/registrations"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "RATELIMIT_ENABLED": True}


def register(client, number: int, address: str = "203.0.113.7"):  # type: ignore[no-untyped-def]
    return client.post(
        REGISTER,
        json={"email": f"person{number}@example.com", "first_name": "Pat"},
        environ_base={"REMOTE_ADDR": address},
    )


def test_the_31st_registration_in_a_minute_from_one_address_is_a_json_429(client, app):
    make_event()
    for number in range(30):
        assert register(client, number).status_code == 201, number
    refused = register(client, 30)
    assert refused.status_code == 429
    error = refused.json["error"]
    assert error["code"] == "rate_limited"
    assert "30 per 1 minute" in error["message"]
    assert int(refused.headers["Retry-After"]) > 0
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 30
    assert register(client, 31, address="198.51.100.9").status_code == 201


def statuses_with(settings: dict[str, Any], tries: int) -> list[int]:
    """What `tries` registrations from one address get from an app built with `settings`."""
    app = create_app(settings)
    with app.app_context():
        make_event()
        client = app.test_client()
        statuses = [register(client, number).status_code for number in range(tries)]
        db.session.remove()
        db.engine.dispose()
    return statuses


def test_the_limit_is_a_setting(app_config):
    settings = {**app_config, "API_REGISTRATION_RATE_LIMIT": "2/minute"}
    assert statuses_with(settings, 3) == [201, 201, 429]


def test_ratelimit_enabled_off_turns_the_limit_off(app_config):
    settings = {**app_config, "RATELIMIT_ENABLED": False, "API_REGISTRATION_RATE_LIMIT": "1/minute"}
    assert statuses_with(settings, 3) == [201, 201, 201]
