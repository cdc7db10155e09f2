"""The console's post-event emails page: marketers and admins edit each email's wording, see
a preview and mail themselves a test; reps may not; the saved words are what registrants get."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from app.db import utcnow
from app.events.services import update_event
from app.mail.models import POST_EVENT_KINDS
from app.mail.post_event import DEFAULTS, wording
from app.worker import run_due_jobs
from tests.builders import csrf_token, log_in, make_event, make_user, register_person
from tests.followup_fixtures import attend

PAGE = "/admin/events/launch-webinar/post-event"


@pytest.fixture
def app_config(app_config, smtp_server):
    return {**app_config, **smtp_server.mail_config}


def wording_form(client: Any, **changes: str) -> dict[str, str]:
    values = {"csrf_token": csrf_token(client.get(PAGE).text)}
    for kind in POST_EVENT_KINDS:
        values[f"{kind}_subject"] = DEFAULTS[kind].subject
        values[f"{kind}_body"] = DEFAULTS[kind].body
    values.update(changes)
    return values


def test_a_marketer_edits_the_thank_you_and_attendees_get_those_words(app, client, smtp_server):
    event = make_event(starts_at=(utcnow() - timedelta(minutes=70)).replace(microsecond=0))
    update_event(event, {"recording_url": "https://videos.example.com/r1"})
    register_person(event, "ada@example.com")
    log_in(client, make_user("marketer"))
    assert "Post-event emails" in client.get("/admin/events/launch-webinar").text

    saved = client.post(
        PAGE,
        data=wording_form(
            client,
            post_event_thanks_subject="Thanks, {first_name}!",
            post_event_thanks_body="Dear {first_name},\n\nglad you came to {event}.",
            action="save",
        ),
    )
    assert saved.status_code == 303
    page = client.get(PAGE).text
    assert "Thanks, {first_name}!" in page and "glad you came to {event}." in page

    attend(event, {"ada@example.com": 30})
    run_due_jobs(now=utcnow() + timedelta(minutes=61))
    (thanks,) = [m for m in smtp_server.to("ada@example.com") if "Thanks" in m["Subject"]]
    assert thanks["Subject"] == "Thanks, Ada!"
    text = thanks.get_body(preferencelist=("plain",)).get_content()
    assert "glad you came to Launch webinar." in text
    assert f"Watch the recording: http://testserver/e/{event.slug}/watch/" in text


def test_preview_shows_the_unsaved_words_and_a_test_goes_to_the_staff_member(
    app, client, smtp_server
):
    make_event()
    marketer = make_user("marketer", "mia@example.com")
    log_in(client, marketer)
    preview = client.post(
        PAGE,
        data=wording_form(
            client,
            post_event_missed_subject="We saved you a seat, {first_name}",
            action="preview:post_event_missed",
        ),
    )
    assert preview.status_code == 200
    assert "Preview: We saved you a seat, Marketer" in preview.text

    sent = client.post(
        PAGE,
        data=wording_form(
            client,
            post_event_missed_subject="We saved you a seat, {first_name}",
            action="test:post_event_missed",
        ),
    )
    assert sent.status_code == 200
    assert "on its way to mia@example.com" in sent.text
    run_due_jobs()
    (test,) = smtp_server.to("mia@example.com")
    assert test["Subject"] == "[Test] We saved you a seat, Marketer"
    # Nothing was saved by previewing or testing.
    assert "We saved you a seat" not in client.get(PAGE).text


def test_bad_words_are_refused_naming_the_field(client):
    make_event()
    log_in(client, make_user("admin"))
    answer = client.post(
        PAGE,
        data=wording_form(client, post_event_thanks_subject="", action="save"),
    )
    assert answer.status_code == 422
    assert "Give the email a subject." in answer.text
    answer = client.post(
        PAGE,
        data=wording_form(client, post_event_recording_body="x" * 20_001, action="save"),
    )
    assert answer.status_code == 422
    assert "Use at most 20000 characters" in answer.text


def test_a_rep_may_not_open_or_change_post_event_emails(app, client):
    event = make_event()
    log_in(client, make_user("rep"))
    assert client.get(PAGE).status_code == 403
    data = {"post_event_thanks_subject": "Hacked", "post_event_thanks_body": "x", "action": "save"}
    assert client.post(PAGE, data=data).status_code in (400, 403)
    assert wording(event, "post_event_thanks") == DEFAULTS["post_event_thanks"]
