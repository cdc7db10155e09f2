"""On-demand replay: after a webinar with a recording, its landing page is "Watch the recording"
behind the same form; every view goes through a tracked link that records on-demand attendance,
which feeds the score and routing like live attendance and is shown as on-demand."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import db, utcnow
from app.followup.due import route_due_events
from app.followup.routing import route_followups
from app.registrations.links import manage_token
from app.registrations.models import Lead, Registration
from app.registrations.personal_links import personal_url
from app.registrations.replay import watch_token
from app.worker import run_due_jobs
from tests.builders import csrf_token, log_in, make_event, register_person, token_for
from tests.followup_fixtures import followup_of, make_rep

RECORDING = "https://video.example.com/watch/launch-replay"


def _replay(**overrides):  # type: ignore[no-untyped-def]
    starts = (utcnow() - timedelta(days=1)).replace(microsecond=0)
    event = make_event(starts_at=starts, **overrides)
    event.recording_url = RECORDING
    db.session.commit()
    return event


def _registration(email: str) -> Registration:
    return db.session.scalars(select(Registration).where(Registration.email == email)).one()


def _fill(client, path: str, **fields: str):  # type: ignore[no-untyped-def]
    page = client.get(path)
    assert page.status_code == 200
    form = {"csrf_token": csrf_token(page.text), "first_name": "Grace", **fields}
    return client.post(path.split("?")[0], data=form)


def test_the_replay_form_registers_and_sends_the_viewer_through_the_tracked_link(client, app):
    event = _replay()
    response = _fill(client, f"/e/{event.slug}", email="grace@example.com")
    assert response.status_code == 303
    watch = response.headers["Location"]
    assert watch.startswith(f"/e/{event.slug}/watch/")

    registration = _registration("grace@example.com")
    assert registration.status == "on_demand"
    assert registration.on_demand_at is None  # not watched until the link is followed
    db.session.expire_all()
    assert event.seats_taken == 0

    followed = client.get(watch)
    assert followed.status_code == 303
    assert followed.headers["Location"] == RECORDING
    db.session.expire_all()
    assert registration.on_demand_at is not None
    assert registration.on_demand_views == 1
    client.get(watch)
    db.session.expire_all()
    assert registration.on_demand_views == 2


def test_a_known_lead_watches_in_one_click_from_their_personal_link(client, app):
    earlier = make_event(slug="earlier", campaign="Spring launch")
    register_person(earlier, "ada@example.com", last_name="Lovelace", company="Engines")
    event = _replay()
    lead = db.session.scalars(select(Lead)).one()
    path = personal_url(lead, event.slug).removeprefix("http://testserver")
    page = client.get(path).text
    assert "Watch the recording" in page and 'value="ada@example.com"' in page
    token = page.split('id="p" name="p" type="hidden" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        f"/e/{event.slug}",
        data={"csrf_token": csrf_token(page), "p": token, "email": "x@y.z", "first_name": "Ada"},
    )
    assert response.status_code == 303
    assert client.get(response.headers["Location"]).headers["Location"] == RECORDING
    registration = db.session.scalars(
        select(Registration).where(Registration.event_id == event.id)
    ).one()
    assert registration.email == "ada@example.com" and registration.on_demand_at is not None


def test_a_registrant_of_the_live_event_watches_from_their_manage_link(client, app):
    event = _replay()
    ada = register_person(event, "ada@example.com")
    page = client.get(f"/r/{manage_token(ada)}").text
    link = f"/e/{event.slug}/watch/{watch_token(ada)}"
    assert f'href="{link}"' in page and "Watch the recording" in page
    assert client.get(link).headers["Location"] == RECORDING
    db.session.expire_all()
    assert ada.status == "confirmed" and ada.on_demand_at is not None


def test_a_tampered_or_foreign_watch_token_is_refused_and_records_nothing(client, app):
    event = _replay()
    other = _replay(slug="other-replay")
    ada = register_person(event, "ada@example.com")
    token = watch_token(ada)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/e/{event.slug}/watch/{tampered}").status_code == 404
    assert client.get(f"/e/{other.slug}/watch/{token}").status_code == 404
    # The manage link's own token is not a watch token.
    assert client.get(f"/e/{event.slug}/watch/{manage_token(ada)}").status_code == 404
    db.session.expire_all()
    assert ada.on_demand_at is None and ada.on_demand_views == 0


def test_no_recording_no_replay_and_no_tracked_redirect(client, app):
    event = make_event(starts_at=(utcnow() - timedelta(days=1)).replace(microsecond=0))
    ada = register_person(event, "ada@example.com")
    assert client.get(f"/e/{event.slug}/watch/{watch_token(ada)}").status_code == 404
    assert "<form" not in client.get(f"/e/{event.slug}").text


def test_an_on_demand_view_is_attendance_that_changes_the_score_and_routes_the_lead(client, app):
    rep = make_rep("rita@example.com")
    event = _replay()
    ada = register_person(event, "ada@example.com")
    route_followups(event.id)
    before = followup_of("ada@example.com", event)
    assert before.priority == "cold" and before.score == 0

    client.get(f"/e/{event.slug}/watch/{watch_token(ada)}")
    _fill(client, f"/e/{event.slug}", email="grace@example.com")
    grace = _registration("grace@example.com")
    client.get(f"/e/{event.slug}/watch/{watch_token(grace)}")

    # The worker's next pass sees attendance newer than its routing, like a late import.
    route_due_events(utcnow() + timedelta(seconds=1))
    db.session.expire_all()
    after = followup_of("ada@example.com", event)
    assert after.score == 35 and after.priority == "warm"
    newcomer = followup_of("grace@example.com", event)
    assert newcomer.score == after.score
    assert newcomer.rep_id == rep.id

    api = client.get(
        "/api/v1/followups", headers={"Authorization": f"Bearer {token_for(rep)}"}
    ).get_json()
    marked = {item["lead"]["email"]: item["on_demand"] for item in api["items"]}
    assert marked == {"ada@example.com": True, "grace@example.com": True}

    log_in(client, rep)
    listing = client.get("/followups").text
    assert "on-demand" in listing
    assert "Watched the recording on demand" in listing


def test_the_registration_detail_shows_the_on_demand_view(staff, app):
    event = _replay()
    ada = register_person(event, "ada@example.com")
    staff.get(f"/e/{event.slug}/watch/{watch_token(ada)}")
    page = staff.get(f"/admin/events/{event.slug}/registrations/{ada.id}").text
    assert "Watched the recording on demand" in page


def test_a_marketer_sees_a_replay_registrant_as_on_demand(staff, app):
    event = _replay()
    _fill(staff, f"/e/{event.slug}", email="grace@example.com")
    page = staff.get(f"/admin/events/{event.slug}/registrations").text
    assert "on-demand" in page


def test_typing_a_registrants_email_shows_the_recording_but_counts_no_view_for_them(client, app):
    event = _replay()
    registration = register_person(event, email="ada@example.com")
    response = _fill(client, f"/e/{event.slug}", email="ada@example.com")
    assert response.status_code == 303
    # Straight to the recording, not through the tracked link that would credit Ada.
    assert response.headers["Location"] == RECORDING
    db.session.expire_all()
    assert registration.on_demand_at is None
    assert registration.on_demand_views == 0


class TestTheReplayLetter:
    """A replay registrant is emailed their tracked link, in the event's language."""

    @pytest.fixture
    def app_config(self, app_config, smtp_server):  # type: ignore[no-untyped-def]
        return {**app_config, **smtp_server.mail_config}

    @staticmethod
    def watch_path(text: str, slug: str) -> str:
        match = re.search(rf"https?://[^/\s]+(/e/{slug}/watch/[^\s\"<]+)", text)
        assert match, text
        return match.group(1)

    def test_a_replay_registrant_is_emailed_their_tracked_link(self, client, app, smtp_server):
        event = _replay()
        _fill(client, f"/e/{event.slug}", email="grace@example.com")
        run_due_jobs()
        (letter,) = smtp_server.to("grace@example.com")
        assert letter["Subject"] == f"Your link to the recording: {event.title}"
        text = letter.get_body(preferencelist=("plain",)).get_content()
        html = letter.get_body(preferencelist=("html",)).get_content()
        assert "Hello Grace," in text and "Watch the recording" in html
        path = self.watch_path(text, event.slug)
        assert self.watch_path(html, event.slug) == path
        assert not any(part.get_content_type() == "text/calendar" for part in letter.walk())

        # The emailed link is the tracked one: following it counts the view.
        followed = client.get(path)
        assert followed.status_code == 303 and followed.headers["Location"] == RECORDING
        db.session.expire_all()
        assert _registration("grace@example.com").on_demand_views == 1

        # Registering again sends the same person to the recording, not another letter.
        _fill(client, f"/e/{event.slug}", email="grace@example.com")
        run_due_jobs()
        assert len(smtp_server.to("grace@example.com")) == 1

    def test_the_replay_letter_of_a_german_event_is_german(self, client, app, smtp_server):
        event = _replay(language="de", title="Produkttour", slug="produkt-tour")
        _fill(client, f"/e/{event.slug}", email="ada@example.com", first_name="Ada")
        run_due_jobs()
        (letter,) = smtp_server.to("ada@example.com")
        assert letter["Subject"] == "Ihr Link zur Aufzeichnung: Produkttour"
        html = letter.get_body(preferencelist=("html",)).get_content()
        text = letter.get_body(preferencelist=("plain",)).get_content()
        assert '<html lang="de">' in html and "Aufzeichnung ansehen" in html
        assert "Hallo Ada," in text
        assert "Watch the recording" not in html + text
