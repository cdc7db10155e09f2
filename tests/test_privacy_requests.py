"""A registrant erases themselves: asked for on the manage page, confirmed by the link
emailed to the registration's address, refused when the link is forged or stale."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from app.db import db
from app.privacy.models import Erasure
from app.privacy.people import find_person
from app.registrations.links import manage_url
from app.worker import run_due_jobs
from tests.builders import csrf_token, make_event, register_person

ERASE_LINK = re.compile(r"(http://testserver/privacy/erase/\S+)")


@pytest.fixture
def app_config(app_config, smtp_server):  # type: ignore[no-untyped-def]
    return {**app_config, **smtp_server.mail_config}


def ask_for_erasure(client: Any, manage_path: str) -> Any:
    manage = client.get(manage_path)
    assert "Erase everything you hold about me" in manage.text
    step = client.get(f"{manage_path}/erase")
    assert "refunds nothing" in step.text
    return client.post(f"{manage_path}/erase", data={"csrf_token": csrf_token(step.text)})


def emailed_link(smtp_server: Any, address: str) -> str:
    run_due_jobs()
    letter = smtp_server.to(address)[-1]
    assert letter["Subject"] == "Confirm erasing your data"
    text = str(letter.get_body(preferencelist=("plain",)).get_content())
    match = ERASE_LINK.search(text)
    assert match, text
    return urlsplit(match.group(1)).path


def test_the_emailed_link_confirms_the_request_and_erases_the_person(client, event, smtp_server):
    ada = register_person(event, "ada@example.com", last_name="Lovelace")
    manage_path = urlsplit(manage_url(ada)).path

    asked = ask_for_erasure(client, manage_path)

    assert "We have emailed a link" in asked.text
    assert find_person("ada@example.com") is not None  # nothing erased yet
    link = emailed_link(smtp_server, "ada@example.com")
    confirm = client.get(link)
    assert confirm.status_code == 200
    done = client.post(link, data={"csrf_token": csrf_token(confirm.text)})
    assert "Your data is erased" in done.text
    assert find_person("ada@example.com") is None
    log = db.session.scalars(select(Erasure)).one()
    assert (log.actor, log.source) == ("registrant", "registrant")
    # The old manage link and the confirming link now open nothing.
    assert client.get(manage_path).status_code == 404
    assert client.get(link).status_code == 404


def test_a_forged_link_or_a_post_without_the_form_token_erases_nothing(client, event, smtp_server):
    ada = register_person(event, "ada@example.com")
    ask_for_erasure(client, urlsplit(manage_url(ada)).path)
    link = emailed_link(smtp_server, "ada@example.com")

    assert client.get(link[:-3] + "abc").status_code == 404
    assert client.post(link, data={}).status_code == 400
    assert find_person("ada@example.com") is not None
    assert db.session.scalar(select(func.count()).select_from(Erasure)) == 0


def test_an_expired_link_erases_nothing(app, client, event, smtp_server):
    ada = register_person(event, "ada@example.com")
    ask_for_erasure(client, urlsplit(manage_url(ada)).path)
    link = emailed_link(smtp_server, "ada@example.com")
    app.config["ERASURE_LINK_HOURS"] = -1  # every link is older than that

    assert client.get(link).status_code == 404
    assert find_person("ada@example.com") is not None


def test_a_german_registrant_erases_themselves_in_german(client, smtp_server):
    event = make_event(slug="produkt-tour", title="Produkttour", language="de")
    ada = register_person(event, "ada@example.com")
    manage_path = urlsplit(manage_url(ada)).path
    step = client.get(f"{manage_path}/erase")
    assert "Alles über Sie löschen?" in step.text and '<html lang="de">' in step.text
    asked = client.post(f"{manage_path}/erase", data={"csrf_token": csrf_token(step.text)})
    assert "Wir haben einen Link an ada@example.com geschickt" in asked.text
    assert "innerhalb von 24 Stunden" in asked.text

    run_due_jobs()
    letter = smtp_server.to("ada@example.com")[-1]
    assert letter["Subject"] == "Bestätigen Sie die Löschung Ihrer Daten"
    text = str(letter.get_body(preferencelist=("plain",)).get_content())
    # The email names the button the German page shows.
    assert "„Ja, meine Daten löschen“" in text
    link = urlsplit(ERASE_LINK.search(text).group(1)).path  # type: ignore[union-attr]
    confirm = client.get(link)
    assert "Ja, meine Daten löschen" in confirm.text
    done = client.post(link, data={"csrf_token": csrf_token(confirm.text)})
    assert "Ihre Daten sind gelöscht" in done.text
