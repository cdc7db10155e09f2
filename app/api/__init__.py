"""The JSON API at /api/v1 (bearer tokens, JSON errors, OpenAPI from the validating schemas)."""

from __future__ import annotations

from flask import Flask


def register_api(app: Flask) -> None:
    """Bind the API to the app (filled in by the API module)."""
