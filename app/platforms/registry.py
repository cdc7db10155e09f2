"""Which connectors this installation has: the one place that reads platform credentials, so
their source (configuration today, the console's settings later) changes here alone."""

from __future__ import annotations

from flask import current_app

from app.platforms.base import Connector
from app.platforms.zoom import ZoomConnector, ZoomSettings

# The values of `events.platform`, with the names people see.
PLATFORMS = {"zoom": "Zoom", "goto": "GoTo Webinar"}


def connector(name: str | None) -> Connector | None:
    """The connector for `name`, or None when the platform is unknown or not configured."""
    config = current_app.config
    found: Connector | None = None
    if name == "zoom":
        found = ZoomConnector(
            ZoomSettings(
                account_id=config.get("ZOOM_ACCOUNT_ID"),
                client_id=config.get("ZOOM_CLIENT_ID"),
                client_secret=config.get("ZOOM_CLIENT_SECRET"),
                api_base=config["ZOOM_API_BASE"],
                oauth_base=config["ZOOM_OAUTH_BASE"],
                timeout=float(config["PLATFORM_TIMEOUT_SECONDS"]),
            )
        )
    if found is None or not found.configured():
        return None
    return found
