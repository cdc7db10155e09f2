"""The JSON API at /api/v1 (bearer tokens, JSON errors, OpenAPI from the validating schemas)."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from app.api.blueprint import BEARER
from app.api.errors import Error, answer_unrouted_requests, describe_errors


class JsonApi(Api):
    """flask-smorest's Api, documenting our error shape; the handlers live on the blueprints."""

    ERROR_SCHEMA = Error

    def _register_error_handlers(self) -> None:
        # An app-wide handler would also catch the HTML pages' errors; see app.api.errors.
        return None


def register_api(app: Flask) -> None:
    """Serve the API and its OpenAPI document (GET /api/v1/openapi.json) on `app`."""
    from app.api import (
        approval,
        attendance,
        events,
        followups,
        leads,
        people,
        personal_links,
        questions,
        registrations,
        reps,
        routing,
        source_links,
        webhooks,
    )
    from app.api.schemas.events import EventPage, PublicEventPage
    from app.extensions import csrf

    api = JsonApi(app)
    api.spec.components.security_scheme(
        BEARER,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from `flask --app wsgi tokens create --email …`.",
        },
    )
    # The event list is answered in one of these two (see `events.LIST_SHAPES`).
    api.spec.components.schema("EventPage", schema=EventPage)
    api.spec.components.schema("PublicEventPage", schema=PublicEventPage)
    for module in (
        events,
        questions,
        source_links,
        personal_links,
        registrations,
        approval,
        leads,
        reps,
        routing,
        attendance,
        followups,
        webhooks,
        people,
    ):
        api.register_blueprint(module.blp)
        # Bearer tokens are not sent by browsers on their own, so cross-site forgery has
        # nothing to ride on; the form CSRF token would only shut integrations out.
        csrf.exempt(module.blp)
    describe_errors(api.spec.components.responses)
    answer_unrouted_requests(app)
