"""Which connectors this installation has: the one place that turns platform credentials (the
console's, else the configuration's: `credentials.py`) into connectors."""

from __future__ import annotations

from flask import current_app

from app.platforms.base import Connector
from app.platforms.credentials import zoom_credentials
from app.platforms.goto import GoToConnector
from app.platforms.zoom import ZoomConnector, ZoomSettings

# The values of `events.platform`, with the names people see.
PLATFORMS = {"zoom": "Zoom", "goto": "GoTo Webinar"}


def connector(name: str | None) -> Connector | None:
    """The connector for `name`, or None when the platform is unknown or not configured."""
    found: Connector | None = None
    if name == "zoom":
        zoom = zoom_credentials()
        found = ZoomConnector(
            ZoomSettings(
                account_id=zoom.account_id,
                client_id=zoom.client_id,
                client_secret=zoom.client_secret,
                api_base=zoom.api_base,
                oauth_base=zoom.oauth_base,
                timeout=float(current_app.config["PLATFORM_TIMEOUT_SECONDS"]),
            )
        )
    elif name == "goto":
        found = GoToConnector.from_settings()
    if found is None or not found.configured():
        return None
    return found
