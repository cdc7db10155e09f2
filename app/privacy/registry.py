"""Who holds what about a person: each package adds an exporter and an eraser for the rows it
owns, from its own `init_app` (as it adds worker jobs), so a new table is covered where it is
made and `app.privacy.people` stays blind to it.

An exporter returns a piece of the export document (its own top-level keys); an eraser
removes or anonymises its rows and returns how many it touched. Both are given the `Person`
as found before anything was erased, since an eraser may no longer find it by email once
another has run.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy import ColumnElement, select

from app.db import db

# Shorter names are not looked for in free text: "Al" would blank every "also".
_SHORTEST_NAME = 3
ERASED = "[erased]"


def email_hash(email: str) -> str:
    """The SHA-256 of the normalised address: what the erasure log and webhooks carry."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


@dataclass(frozen=True)
class Person:
    """One email address and what identifies its owner wherever they may be mentioned."""

    email: str  # normalised: lower case
    lead_id: int | None
    registration_ids: tuple[int, ...]
    # Names and phone numbers as stored (several registrations may spell them apart).
    names: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    addresses: tuple[str, ...] = field(default=())  # the email as each registration typed it

    @property
    def email_hash(self) -> str:
        return email_hash(self.email)

    def identifiers(self) -> list[str]:
        """Every string that names this person, longest first (a full name before its parts)."""
        found = {self.email, *self.addresses, *self.phones}
        for name in self.names:
            found.add(name)
            found.update(part for part in name.split() if len(part) >= _SHORTEST_NAME)
        return sorted((text for text in found if text), key=len, reverse=True)

    def _pattern(self) -> re.Pattern[str]:
        alternatives = "|".join(re.escape(text) for text in self.identifiers())
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)

    def mentioned_in(self, text: str | None) -> bool:
        return bool(text) and bool(self._pattern().search(text or ""))

    def scrub(self, text: str) -> str:
        """`text` with every mention of this person replaced by "[erased]"."""
        return self._pattern().sub(ERASED, text)

    def scrub_value(self, value: Any) -> Any:
        """A JSON value (a webhook payload, a message's details) with every string scrubbed."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, list):
            return [self.scrub_value(item) for item in value]
        if isinstance(value, dict):
            return {key: self.scrub_value(item) for key, item in value.items()}
        return value


def scan(model: Any, *conditions: ColumnElement[bool], chunk: int = 500) -> Iterator[Any]:
    """Every row of `model` meeting `conditions`, in id order, a chunk at a time: how an eraser
    reads text it must search in Python (JSON payloads, email bodies), so that SQLite and
    PostgreSQL agree and memory holds one chunk."""
    after = 0
    while True:
        rows = list(
            db.session.scalars(
                select(model).where(model.id > after, *conditions).order_by(model.id).limit(chunk)
            )
        )
        if not rows:
            return
        after = rows[-1].id
        yield from rows


Exporter = Callable[[Person], Mapping[str, Any]]
Eraser = Callable[[Person, datetime], int]


@dataclass
class Registry:
    exporters: dict[str, Exporter] = field(default_factory=dict)
    erasers: dict[str, Eraser] = field(default_factory=dict)


def add_exporter(app: Flask, name: str, exporter: Exporter) -> None:
    """Add `exporter(person)`'s keys to every export of a person."""
    registry(app).exporters[name] = exporter


def add_eraser(app: Flask, name: str, eraser: Eraser) -> None:
    """Run `eraser(person, now)` in every erasure, in the transaction that logs it.

    Erasers run in the order they were added; the person's lead and registrations are
    anonymised after all of them, so each can still join through them.
    """
    registry(app).erasers[name] = eraser


def registry(app: Flask | None = None) -> Registry:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get("privacy")
    if found is None:
        found = app.extensions["privacy"] = Registry()
    return found
