"""The API's blueprint: JSON bodies only, one error shape, and access rules that document
themselves in the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import marshmallow as ma
from flask import Request
from flask_smorest import Blueprint
from flask_smorest.utils import load_info_from_docstring
from webargs.flaskparser import FlaskParser, is_json_request

from app.api import auth
from app.api.errors import fail, handle_blueprint_errors

BEARER = "bearerAuth"


class JsonBodyParser(FlaskParser):
    """webargs' parser, except that a body sent as anything but JSON is refused (415) instead of
    being read as an empty object, which would answer "missing field" for every field; and
    that a query parameter a call does not take is refused as an unknown body field is,
    rather than ignored (a misspelt `?stauts=draft` would otherwise list everything)."""

    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": ma.RAISE,
        "querystring": ma.RAISE,
    }

    def load_json(self, req: Request, schema: ma.Schema) -> Any:
        body = req.get_data(cache=True)
        if body and not is_json_request(req):
            fail(415, "Send the body as JSON, with the header `Content-Type: application/json`.")
        if not body and schema.partial:
            # A change needs a body (the document says so); `{}` is the way to change nothing.
            fail(422, "Send the fields to change as a JSON object in the body.")
        return super().load_json(req, schema)

    def load_querystring(self, req: Request, schema: ma.Schema) -> Any:
        # A parameter that takes one value, given twice, is not a value: webargs would take
        # the first silently, and the caller might have meant the second.
        repeated = {
            name: f"Give `{name}` once."
            for name, field in schema.fields.items()
            if not isinstance(field, ma.fields.List) and len(req.args.getlist(name)) > 1
        }
        if repeated:
            fail(422, "Some query parameters are given more than once.", repeated)
        return super().load_querystring(req, schema)


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = JsonBodyParser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        handle_blueprint_errors(self)

    def arguments(self, schema: Any, *, location: str = "json", **kwargs: Any) -> Any:
        """flask-smorest's `arguments`, documenting the refusals a body can get besides 422."""
        decorator = super().arguments(schema, location=location, **kwargs)
        if location not in ("json", "files"):
            return decorator
        refusals = [
            (413, "REQUEST_ENTITY_TOO_LARGE"),
            (415, "UNSUPPORTED_MEDIA_TYPE"),
        ]
        if location == "json":
            refusals.append((400, "BAD_REQUEST"))

        def documented(view: Any) -> Any:
            view = decorator(view)
            for code, name in refusals:
                view = self.alt_response(code, response=name)(view)
            return view

        return documented

    def allow(self, *roles: str, anyone: bool = False) -> Callable[[Any], Any]:
        """Let callers with one of `roles` in (or anyone, token optional, with `anyone=True`).

        Put it right below `route`: the caller is known before the body is judged, so an
        anonymous caller learns that it needs a token, not what is wrong with its fields.
        """

        def decorator(view: Any) -> Any:
            @wraps(view)
            def guarded(*args: Any, **kwargs: Any) -> Any:
                if anyone:
                    auth.caller()
                else:
                    auth.require(roles)
                return view(*args, **kwargs)

            if anyone:
                security: list[dict[str, list[str]]] = [{}, {BEARER: []}]
                who = "Anyone; a staff token may change what the answer shows."
                # A token that is sent must be valid, even where none is needed.
                guarded = self.alt_response(401, response="UNAUTHORIZED")(guarded)
            else:
                # The same mark `app.auth.access.roles_required` leaves, read by route walkers.
                guarded.required_roles = frozenset(roles)  # type: ignore[attr-defined]
                security = [{BEARER: []}]
                who = "Roles: " + ", ".join(roles) + "."
                guarded = self.alt_response(401, response="UNAUTHORIZED")(guarded)
                guarded = self.alt_response(403, response="FORBIDDEN")(guarded)
            # The docstring's own description stays, followed by who may call.
            told = load_info_from_docstring(view.__doc__).get("description")
            description = f"{told}\n\n{who}" if told else who
            return self.doc(security=security, description=description)(guarded)

        return decorator
