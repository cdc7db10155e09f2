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


def test_behind_a_trusted_proxy_each_visitor_is_limited_by_their_own_address(app_config):
    app = create_app({**app_config, "API_REGISTRATION_RATE_LIMIT": "2/minute", "PROXY_HOPS": 1})
    with app.app_context():
        make_event()
        client = app.test_client()

        def through_proxy(number: int, visitor: str) -> int:
            return client.post(
                REGISTER,
                json={"email": f"person{number}@example.com", "first_name": "Pat"},
                environ_base={"REMOTE_ADDR": "10.0.0.2"},  # the proxy
                headers={"X-Forwarded-For": f"203.0.113.50, {visitor}"},
            ).status_code

        assert [through_proxy(n, "198.51.100.1") for n in range(3)] == [201, 201, 429]
        # Another visitor behind the same proxy has their own allowance; a forged address
        # further out in the header is not believed.
        assert through_proxy(3, "198.51.100.2") == 201
        db.session.remove()
        db.engine.dispose()


def test_without_a_proxy_a_forwarded_header_is_not_believed(app_config):
    app = create_app({**app_config, "API_REGISTRATION_RATE_LIMIT": "2/minute"})
    with app.app_context():
        make_event()
        client = app.test_client()
        statuses = [
            client.post(
                REGISTER,
                json={"email": f"person{n}@example.com", "first_name": "Pat"},
                environ_base={"REMOTE_ADDR": "203.0.113.7"},
                headers={"X-Forwarded-For": f"198.51.100.{n}"},
            ).status_code
            for n in range(3)
        ]
        assert statuses == [201, 201, 429]
        db.session.remove()
        db.engine.dispose()
