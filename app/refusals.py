"""The one kind of error a service raises when the rules refuse what a caller asked for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar


class Refusal(Exception):
    """A request the rules refuse: `message` is for the person who asked, and `fields` maps
    each field name to what is wrong with it (empty when no one field is to blame).

    The API answers every refusal with `status` and the console shows it next to its fields,
    each in one place (`app.api.errors`, `app.pages`), so a service only says why.
    """

    # The HTTP status a refusal is answered with: 422 for values the rules refuse; a
    # subclass says 409 when the request is valid but the current state refuses it.
    status: ClassVar[int] = 422
    # The message of a refusal that names only fields.
    default_message: ClassVar[str] = "Nothing was saved."

    def __init__(
        self, message: str | None = None, *, fields: Mapping[str, str] | None = None
    ) -> None:
        self.message = message or self.default_message
        self.fields = dict(fields or {})
        super().__init__(self.message)
