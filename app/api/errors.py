"""One error shape for every API answer that is not a success, and the handlers that give it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

import marshmallow as ma
from flask import Flask, jsonify, request
from flask.sansio.blueprints import Blueprint
from werkzeug.exceptions import HTTPException, MethodNotAllowed, default_exceptions
from werkzeug.wrappers import Response

from app.db import db
from app.inputs import RefusedInput
from app.outage import outage_answer
from app.refusals import Refusal

API_PREFIX = "/api/"

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}

# werkzeug's own descriptions speak of browsers and servers; these speak to an API client.
MESSAGES = {
    400: "The request could not be read.",
    401: "Send a valid API token as `Authorization: Bearer <token>`.",
    403: "Your role may not do this.",
    404: "There is nothing at this address.",
    413: "The request body is larger than this call accepts.",
    422: "Some fields are not valid; see `fields`.",
    500: "Something went wrong on our side; the request was not carried out.",
}


class ApiError(HTTPException):
    """An error a view raises with its message and per-field reasons."""

    def __init__(
        self, code: int, message: str, fields: Mapping[str, str] | None = None, **headers: str
    ) -> None:
        super().__init__(description=message)
        self.code = code
        self.fields = dict(fields or {})
        self.extra_headers = headers


def fail(
    code: int, message: str, fields: Mapping[str, str] | None = None, **headers: str
) -> NoReturn:
    """Stop the request with this error; `fields` maps field names to what is wrong."""
    raise ApiError(code, message, fields, **headers)


class ErrorDetail(ma.Schema):
    code = ma.fields.String(
        required=True, metadata={"description": "A stable word for the kind of error."}
    )
    message = ma.fields.String(required=True, metadata={"description": "What went wrong."})
    # Named apart from Schema.fields (the schema's own field table), published as "fields".
    field_errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        required=True,
        data_key="fields",
        metadata={"description": "For each field that was refused, why."},
    )


class Error(ma.Schema):
    """The body of every error the API answers: `{"error": {"code", "message", "fields"}}`."""

    error = ma.fields.Nested(ErrorDetail, required=True)


# When each documented error is answered, for the document's shared responses.
WHEN = {
    "BAD_REQUEST": "The body is not valid JSON.",
    "UNAUTHORIZED": "No API token where one is needed, or a token that is unknown, revoked "
    "or whose user is deactivated (also where no token is needed).",
    "FORBIDDEN": "The token's role may not make this call.",
    "NOT_FOUND": "Nothing at this address, or nothing this caller may see (another rep's "
    "lead or follow-up answers 404, as if it did not exist).",
    "CONFLICT": "The request is valid but the current state refuses it (the event is full "
    "or closed, the email is taken, the event was cancelled).",
    "REQUEST_ENTITY_TOO_LARGE": "The body is larger than this call accepts.",
    "UNSUPPORTED_MEDIA_TYPE": "The body is not sent as the content type this call reads "
    "(application/json, or multipart/form-data for files).",
    "UNPROCESSABLE_ENTITY": "Some fields or query parameters are not valid; `fields` names "
    "each one and says why.",
    "TOO_MANY_REQUESTS": "Too many requests from this address; wait for the time in `Retry-After`.",
    "SERVICE_UNAVAILABLE": "A service this call needs did not answer: Stripe (nothing was "
    "kept), or the database (the call may or may not have been carried out; `Retry-After` "
    "says when to try again).",
    "DEFAULT_ERROR": "Any other error, in the same shape.",
}


def describe_errors(responses: dict[str, dict[str, Any]]) -> None:
    """Say, in the document's shared error responses, when each is answered."""
    for name, response in responses.items():
        if name in WHEN:
            response["description"] = WHEN[name]


def flatten(messages: Any, prefix: str = "") -> dict[str, str]:
    """marshmallow's nested message lists as one `{"field.path": "why"}` map."""
    if isinstance(messages, Mapping):
        flat: dict[str, str] = {}
        for key, value in messages.items():
            flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(messages, list | tuple):
        if all(isinstance(item, str) for item in messages):
            return {prefix: " ".join(messages)}
        flat = {}
        for item in messages:
            flat.update(flatten(item, prefix))
        return flat
    return {prefix: str(messages)}


def _parts(error: HTTPException) -> tuple[str, dict[str, str]]:
    """The message and field reasons an exception carries."""
    if isinstance(error, ApiError | RefusedInput):
        return str(error.description), error.fields
    data = getattr(error, "data", None) or {}
    if "messages" in data:
        # webargs: {"json": {...}} or {"query": {...}}; the location is not the client's concern.
        located = data["messages"]
        fields: dict[str, str] = {}
        for messages in located.values() if isinstance(located, Mapping) else [located]:
            fields.update(flatten(messages))
        if error.code == 400:
            return "The request body is not valid JSON.", {}
        whole = fields.pop("_schema", None)
        return whole or MESSAGES[422], fields
    return MESSAGES.get(error.code or 500) or str(error.description or error.name), {}


def error_response(error: HTTPException) -> Response:
    code = error.code or 500
    if code == 500 and (answer := outage_answer(error)) is not None:
        return answer
    message, fields = _parts(error)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        allowed = ", ".join(sorted(error.valid_methods))
        message = f"{request.method} is not allowed at this address; use {allowed}."
    if code == 429:
        message = f"Too many requests ({error.description}); try again later."
    response = jsonify(
        {
            "error": {
                "code": CODES.get(code, _snake(error.name)),
                "message": message,
                "fields": fields,
            }
        }
    )
    response.status_code = code
    for name, value in _headers(error):
        response.headers[name] = value
    return response


def refusal_response(refusal: Refusal) -> Response:
    """A service's refusal in the same shape, answered with the status its kind names."""
    # Nothing a refused request changed is kept, whatever runs after the view.
    db.session.rollback()
    return error_response(ApiError(refusal.status, refusal.message, refusal.fields))


def _headers(error: HTTPException) -> list[tuple[str, str]]:
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    data = getattr(error, "data", None) or {}
    headers.extend((data.get("headers") or {}).items())
    headers.extend(getattr(error, "extra_headers", {}).items())
    if error.code == 401:
        headers.append(("WWW-Authenticate", 'Bearer realm="api"'))
    return headers


def _snake(name: str) -> str:
    return name.lower().replace(" ", "_").replace("'", "")


def handle_blueprint_errors(blueprint: Blueprint) -> None:
    """Answer every error raised inside `blueprint` in the API's shape, a service's `Refusal`
    included: views leave refusals to this handler rather than catching them one by one.

    Registered per status code as well as for HTTPException because Flask looks at
    code-specific handlers of the whole app before a blueprint's catch-all one, and other
    packages may register HTML pages for 403 or 404.
    """
    blueprint.register_error_handler(HTTPException, error_response)
    blueprint.register_error_handler(Refusal, refusal_response)
    for code in default_exceptions:
        if code >= 400:
            blueprint.register_error_handler(code, error_response)


def answer_unrouted_requests(app: Flask) -> None:
    """Unknown API addresses and wrong methods belong to no blueprint, so no blueprint handler
    sees them; answer them here, before the app's HTML error pages would."""

    @app.before_request
    def unrouted_api_request() -> Response | None:
        error = request.routing_exception
        if (
            isinstance(error, HTTPException)
            and (error.code or 0) >= 400
            and request.path.startswith(API_PREFIX)
        ):
            if error.code == 404:
                error = ApiError(
                    404, f"There is no API call at {request.path}; see /api/v1/openapi.json."
                )
            return error_response(error)
        return None
