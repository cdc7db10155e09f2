"""What the Zoom tests share: an app pointed at a running fake Zoom, and an event linked to a
webinar the fake knows. Import the fixtures by their function names; tests ask for them as
`zoom` and `zoom_event`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.events.models import Event
from tests.builders import make_event
from tests.fake_zoom import FakeZoom

WEBINAR_ID = "81234567890"


@pytest.fixture(name="zoom")
def zoom_fixture() -> Iterator[FakeZoom]:
    fake = FakeZoom().start()
    fake.webinar(WEBINAR_ID)
    yield fake
    fake.stop()


@pytest.fixture
def app_config(app_config: dict[str, Any], zoom: FakeZoom) -> dict[str, Any]:
    # The tests run the worker's passes themselves.
    return app_config | zoom.settings | {"MAIL_WAKE_WORKER": False}


@pytest.fixture(name="zoom_event")
def zoom_event_fixture(app: Any) -> Event:
    return make_event(platform="zoom", platform_webinar_id=WEBINAR_ID)
