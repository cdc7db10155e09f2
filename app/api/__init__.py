"""The JSON API at /api/v1 (bearer tokens, JSON errors, OpenAPI from the validating schemas)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apispec import APISpec
from flask import Flask
from flask_smorest import Api, Blueprint

from app.api.blueprint import BEARER
from app.api.errors import Error, answer_unrouted_requests, describe_errors


class JsonApi(Api):
    """flask-smorest's Api, documenting our error shape; the handlers live on the blueprints."""

    ERROR_SCHEMA = Error

    # Writing every call into the OpenAPI document takes longer than the rest of the app's
    # start-up together, and almost no process ever serves the document: each blueprint is
    # routed at once and written into the document the first time someone reads `spec`.
    _unwritten: list[tuple[Blueprint, str, Any]]
    _finishing: list[Callable[[APISpec], None]]

    @property
    def spec(self) -> APISpec:
        unwritten = self.__dict__.get("_unwritten")
        if unwritten:
            self._unwritten = []
            for blp, name, parameters in unwritten:
                blp.register_views_in_doc(
                    self, self._app, self._spec, name=name, parameters=parameters
                )
                self._spec.tag({"name": name, "description": blp.description})
            for finish in self.__dict__.get("_finishing", []):
                finish(self._spec)
        return self._spec

    @spec.setter
    def spec(self, value: APISpec) -> None:
        self._spec = value

    def register_blueprint(self, blp: Blueprint, *, parameters: Any = None, **options: Any) -> None:
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self.__dict__.setdefault("_unwritten", []).append((blp, name, parameters))

    def when_written(self, finish: Callable[[APISpec], None]) -> None:
        """Run `finish` on the document once every blueprint is written into it."""
        self.__dict__.setdefault("_finishing", []).append(finish)

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
        idempotency,
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
    api.when_written(lambda spec: describe_errors(spec.components.responses))
    answer_unrouted_requests(app)
    idempotency.init_app(app)
