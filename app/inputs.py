"""The door every request passes before a view reads it: how large its body may be, which
numbers a URL may carry, and characters no field may hold (lone UTF-16 surrogates), each
refused once here, naming the field, instead of failing deep inside a view or the database."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from flask import Flask, current_app, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import UnprocessableEntity
from werkzeug.routing import IntegerConverter

# Our ids are PostgreSQL `integer` columns: a larger number names nothing, and PostgreSQL
# refuses to even compare one with them (SQLite stops at 2**63 - 1).
INT32_MAX = 2**31 - 1
# Python's `str` can hold half of a UTF-16 pair on its own (JSON's "\ud800" decodes to one);
# no encoder will write it to the database, a page or an email.
SURROGATES = range(0xD800, 0xE000)

REMOVE_SURROGATE = "Remove the lone UTF-16 surrogate from this value."

View = TypeVar("View", bound=Callable[..., Any])
Default = TypeVar("Default", int, None)


class RefusedInput(UnprocessableEntity):
    """A value refused at the door; `fields` maps each field path to what is wrong with it."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        names = ", ".join(f"“{name}”" for name in fields)
        super().__init__(
            f"These fields hold characters that cannot be stored (lone UTF-16 surrogates): "
            f"{names}. Send them as proper Unicode text."
        )
        self.fields = dict(fields)


class BoundedIntegerConverter(IntegerConverter):
    """`<int:...>` in a URL, but no larger than the database can hold: a larger one is a 404."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("max") is None and len(args) < 3:
            kwargs["max"] = INT32_MAX
        super().__init__(map, *args, **kwargs)


def query_int(
    args: Mapping[str, str], name: str, default: Default, *, low: int = 1, high: int = INT32_MAX
) -> int | Default:
    """The whole number `name` in a query string (a page, an id) from `low` to `high`;
    `default` for anything else. The ceiling keeps a page's offset (page × page size) and an
    id within what the database compares: our ids are 32-bit integers."""
    raw = (args.get(name) or "").strip()
    # "٣" is a digit to `isdigit` but not to a person or to SQL.
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        return default
    number = int(raw)
    return number if low <= number <= high else default


def body_limit(config_key: str) -> Callable[[View], View]:
    """Let this view read bodies up to `current_app.config[config_key]` bytes instead of the
    limit its audience gets (see `limit_for_request`)."""

    def mark(view: View) -> View:
        view.body_limit = config_key  # type: ignore[attr-defined]
        return view

    return mark


def _marks(view: Any) -> Iterator[Any]:
    # Decorators copy a view's attributes outward, but one set after wrapping stays inside.
    while view is not None:
        yield view
        view = getattr(view, "__wrapped__", None)


def limit_for_request() -> int:
    """How many body bytes this request may send: a view's own mark, else staff-only views
    (console, staff API calls) get MAX_STAFF_BODY_BYTES and everything else, open to the
    public, MAX_PUBLIC_BODY_BYTES. Never more than MAX_CONTENT_LENGTH."""
    config = current_app.config
    view = current_app.view_functions.get(request.endpoint or "")
    key = "MAX_PUBLIC_BODY_BYTES"
    for layer in _marks(view):
        if marked := getattr(layer, "body_limit", None):
            key = marked
            break
        if getattr(layer, "required_roles", None):
            key = "MAX_STAFF_BODY_BYTES"
    ceiling = config.get("MAX_CONTENT_LENGTH")
    limit = int(config[key])
    return min(limit, ceiling) if ceiling else limit


def surrogate_paths(value: Any, path: str = "") -> Iterator[str]:
    """The paths (`answers.x`, `segments.0`) inside parsed JSON whose key or text holds a lone
    surrogate."""
    if isinstance(value, str):
        if _has_surrogate(value):
            yield path or "body"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if _has_surrogate(str(key)):
                yield inner.encode("utf-8", "backslashreplace").decode()
            else:
                yield from surrogate_paths(item, inner)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from surrogate_paths(item, f"{path}.{index}" if path else str(index))


def _has_surrogate(text: str) -> bool:
    # Most text is ASCII; the per-character look is only for the rest.
    return not text.isascii() and any(ord(char) in SURROGATES for char in text)


def _multidict_paths(values: MultiDict[str, Any]) -> Iterator[str]:
    for key, item in values.items(multi=True):
        # A multipart part whose name cannot be parsed (a lone "\r", say) has no key at all.
        key = key if isinstance(key, str) else ""
        if _has_surrogate(key) or (isinstance(item, str) and _has_surrogate(item)):
            yield key.encode("utf-8", "backslashreplace").decode()


def check_request() -> None:
    """Set this request's body limits, then refuse lone surrogates anywhere in its query
    string, form or JSON body."""
    limit = limit_for_request()
    request.max_content_length = limit
    # No single form field may hold more than the whole body could.
    request.max_form_memory_size = min(current_app.config["MAX_FORM_MEMORY_SIZE"], limit)
    if request.routing_exception is not None:
        # An unknown address or a wrong method: the router's answer comes first.
        return
    bad = list(_multidict_paths(request.args))
    if request.mimetype == "application/x-www-form-urlencoded":
        # Kept, so a view that wants the raw body (the API, which refuses forms) still has it.
        request.get_data(cache=True)
        bad.extend(_multidict_paths(request.form))
    elif request.mimetype == "multipart/form-data":
        bad.extend(_multidict_paths(request.form))
    elif request.is_json:
        # A body that is not JSON at all is the view's (or the API parser's) to refuse.
        bad.extend(surrogate_paths(request.get_json(silent=True)))
    if bad:
        raise RefusedInput({path: REMOVE_SURROGATE for path in bad})


def init_app(app: Flask) -> None:
    """Install the door; call before any extension whose hooks read the body (CSRF)."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.before_request(check_request)
