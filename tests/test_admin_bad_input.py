"""No console form answers bad input with a 500: every POST route under /admin, found in the URL
map, is sent its own form as the page fills it, with one field at a time replaced by a hostile or
malformed value, as an admin would send it."""

from __future__ import annotations

import secrets
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from itsdangerous import URLSafeTimedSerializer

from tests.builders import log_in, make_event, make_user, register_person

JUNK = (
    "",
    "\x00",
    "\r\nBcc: victim@example.com",
    "x" * 5000,
    "-99999999999999999999",
    "NaN",
    "2030-02-30T25:61",
    "<script>alert(1)</script>",
    "☃ %_",
)


class Forms(HTMLParser):
    """Each form's action and the values the page fills its fields with."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self._fields: dict[str, str] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._fields = self.forms.setdefault(found.get("action", ""), {})
        elif self._fields is None or tag not in ("input", "select", "option", "textarea"):
            return
        elif tag == "input" and "name" in found:
            if found.get("type") != "checkbox" or "checked" in found:
                self._fields[found["name"]] = found.get("value", "y")
        elif tag == "select":
            self._select = found.get("name")
        elif tag == "option" and self._select:
            if "selected" in found or self._select not in self._fields:
                self._fields[self._select] = found.get("value", "")
        elif tag == "textarea":
            self._textarea = found.get("name")
            self._fields[self._textarea or ""] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea and self._fields is not None:
            self._fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._fields = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _csrf(client: Any, app: Flask) -> str:
    with client.session_transaction() as session:
        raw = session.setdefault("csrf_token", secrets.token_hex(20))
    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(raw)


@pytest.fixture
def admin_client(client, app):  # type: ignore[no-untyped-def]
    log_in(client, make_user("admin"))
    return client


def test_every_console_form_survives_hostile_input_in_any_one_field(admin_client, app):
    event = make_event(slug="target", location="Hall A", capacity=1)
    first = register_person(event, "first@example.com")
    register_person(event, "second@example.com")
    rep = make_user("rep")
    values = {"slug": "target", "registration_id": first.id, "user_id": rep.id}
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/admin") and "POST" in (rule.methods or ())
    ]
    # Cancelling goes last, so the other forms still meet a live event.
    rules.sort(key=lambda rule: "cancel" in rule.rule)
    crashes: list[str] = []
    posted = 0
    for rule in rules:
        path = app.url_map.bind("localhost").build(
            rule.endpoint, {name: values.get(name, 1) for name in rule.arguments}
        )
        baseline: dict[str, str] = {"confirm": "y", "present": "1", "back": ""}
        if "GET" in (rule.methods or ()):
            forms = Forms()
            forms.feed(admin_client.get(path).get_data(as_text=True))
            baseline.update(forms.forms.get(path, {}))
        if rule.endpoint == "admin.rep_profile":
            forms = Forms()
            forms.feed(admin_client.get(f"/admin/settings/staff/{rep.id}").get_data(as_text=True))
            baseline.update(forms.forms.get(path, {}))
        fields = [name for name in baseline if not name.endswith("csrf_token")]
        for name in fields:
            for junk in JUNK:
                data = {**baseline, name: junk, "csrf_token": _csrf(admin_client, app)}
                try:
                    answer = admin_client.post(path, data=data)
                    answer.get_data()
                except Exception as exc:  # noqa: BLE001 - report every crash, not the first
                    crashes.append(f"POST {rule.rule} {name}={junk[:20]!r}: {exc!r}"[:300])
                    continue
                posted += 1
                if answer.status_code >= 500:
                    crashes.append(f"POST {rule.rule} {name}={junk[:20]!r}: {answer.status_code}")
    assert crashes == []
    assert posted >= 40 * len(JUNK)
