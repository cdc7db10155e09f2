"""What the webhook tests share: an app that may post to 127.0.0.1, a running fake receiver,
and a subscription to it made through the service. Import the fixtures by their function
names; tests ask for them as `receiver` and `subscription`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.webhooks import subscriptions
from app.webhooks.models import EVENT_TYPES, WebhookSubscription
from tests.fake_receiver import FakeReceiver


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    # The fake receiver listens on loopback, which webhooks refuse unless told otherwise.
    return app_config | {"WEBHOOKS_ALLOW_PRIVATE": True, "MAIL_WAKE_WORKER": False}


@pytest.fixture(name="receiver")
def receiver_fixture() -> Iterator[FakeReceiver]:
    fake = FakeReceiver().start()
    yield fake
    fake.stop()


@pytest.fixture(name="subscription")
def subscription_fixture(app: Any, receiver: FakeReceiver) -> WebhookSubscription:
    return subscriptions.subscribe(receiver.url, list(EVENT_TYPES))
