"""What the GoTo end-to-end tests share: an app pointed at a running fake GoTo Webinar with a
connected organizer, and an event linked to a webinar the fake knows. Import the fixtures by
their function names; tests ask for them as `goto` and `goto_event`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.events.models import Event
from tests.builders import make_event
from tests.fake_goto import CLIENT_ID, CLIENT_SECRET, ORGANIZER_KEY, REFRESH_TOKEN, FakeGoTo

WEBINAR_KEY = "5300000000000000042"


@pytest.fixture(name="goto")
def goto_fixture() -> Iterator[FakeGoTo]:
    fake = FakeGoTo().start()
    fake.webinar(WEBINAR_KEY)
    yield fake
    fake.stop()


@pytest.fixture
def app_config(app_config: dict[str, Any], goto: FakeGoTo) -> dict[str, Any]:
    # The tests run the worker's passes themselves.
    return app_config | {
        "GOTO_CLIENT_ID": CLIENT_ID,
        "GOTO_CLIENT_SECRET": CLIENT_SECRET,
        "GOTO_REFRESH_TOKEN": REFRESH_TOKEN,
        "GOTO_ORGANIZER_KEY": ORGANIZER_KEY,
        "GOTO_API_BASE": goto.api_base,
        "GOTO_OAUTH_BASE": goto.url,
        "MAIL_WAKE_WORKER": False,
    }


@pytest.fixture(name="goto_event")
def goto_event_fixture(app: Any) -> Event:
    return make_event(platform="goto", platform_webinar_id=WEBINAR_KEY)
