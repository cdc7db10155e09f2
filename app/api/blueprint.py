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
    being read as an empty object, which would answer "missing field" for every field."""

    def load_json(self, req: Request, schema: ma.Schema) -> Any:
        if req.get_data(cache=True) and not is_json_request(req):
            fail(415, "Send the body as JSON, with the header `Content-Type: application/json`.")
        return super().load_json(req, schema)


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = JsonBodyParser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        handle_blueprint_errors(self)

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
