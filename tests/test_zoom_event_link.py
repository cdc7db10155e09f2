"""Linking an event to a Zoom webinar, through the API and the console, by the same rules;
and the console's view of where the event's registrants stand on Zoom."""

from __future__ import annotations

from datetime import timedelta

from app.db import db, utcnow
from app.platforms.models import RegistrantSync
from app.worker import run_due_jobs
from tests.builders import bearer, event_form, log_in, make_event, make_user, register_person
from tests.fake_zoom import FakeZoom
from tests.zoom_fixtures import WEBINAR_ID, app_config, zoom_fixture

__all__ = ["app_config", "zoom_fixture"]

NEW_EVENT = {
    "slug": "zoom-tour",
    "title": "Zoom tour",
    "starts_at": "2030-07-01T10:00:00Z",
    "duration_minutes": 45,
    "timezone": "Europe/Berlin",
}


def test_the_api_links_an_event_to_a_webinar_and_reads_it_back(app, client):
    headers = bearer(make_user("marketer"))
    made = client.post(
        "/api/v1/events",
        json=NEW_EVENT | {"platform": "zoom", "platform_webinar_id": "812 3456 7890"},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    assert made.json["platform"] == "zoom" and made.json["platform_webinar_id"] == "81234567890"

    read = client.get("/api/v1/events/zoom-tour", headers=headers)
    assert read.json["platform_webinar_id"] == "81234567890"
    # Published without a join link of its own: each registrant gets Zoom's.
    published = client.patch(
        "/api/v1/events/zoom-tour", json={"status": "published"}, headers=headers
    )
    assert published.status_code == 200, published.text
    public = client.get("/api/v1/events")
    (listed,) = public.json["items"]
    assert listed["platform"] == "zoom" and "platform_webinar_id" not in listed


def test_the_api_refuses_a_platform_without_a_webinar_or_an_unknown_one(app, client):
    headers = bearer(make_user("marketer"))
    no_id = client.post("/api/v1/events", json=NEW_EVENT | {"platform": "zoom"}, headers=headers)
    assert no_id.status_code == 422
    assert no_id.json["error"]["fields"] == {
        "platform_webinar_id": "Give the webinar's id on the platform."
    }
    unknown = client.post(
        "/api/v1/events",
        json=NEW_EVENT | {"platform": "webex", "platform_webinar_id": "1"},
        headers=headers,
    )
    assert unknown.status_code == 422 and "platform" in unknown.json["error"]["fields"]
    orphan = client.post(
        "/api/v1/events", json=NEW_EVENT | {"platform_webinar_id": "123"}, headers=headers
    )
    assert orphan.status_code == 422
    assert "platform" in orphan.json["error"]["fields"]


def test_the_console_form_links_an_event_and_shows_the_same_refusal(app, client):
    log_in(client, make_user("marketer"))
    refused = event_form(client, platform="zoom", platform_webinar_id="")
    assert refused.status_code == 422
    assert "Give the webinar&#39;s id on the platform." in refused.text

    saved = event_form(client, platform="zoom", platform_webinar_id=WEBINAR_ID)
    assert saved.status_code == 303, saved.text
    page = client.get(saved.headers["Location"])
    assert "Zoom" in page.text and WEBINAR_ID in page.text
    edit = client.get(saved.headers["Location"] + "/edit")
    assert f'value="{WEBINAR_ID}"' in edit.text


def test_the_event_page_shows_sync_counts_and_who_could_not_be_synced(app, client, zoom: FakeZoom):
    event = make_event(platform="zoom", platform_webinar_id=WEBINAR_ID)
    register_person(event, "fine@example.com")
    run_due_jobs()
    zoom.webinars.clear()  # the webinar was deleted on Zoom
    register_person(event, "stuck@example.com", first_name="Stuck", last_name="Person")
    run_due_jobs(utcnow() + timedelta(minutes=1))
    assert {row.status for row in db.session.query(RegistrantSync)} == {"synced", "failed"}

    log_in(client, make_user("marketer"))
    page = client.get(f"/admin/events/{event.slug}")

    assert page.status_code == 200
    assert "Added</dt><dd>1" in page.text
    assert "Could not be added</dt><dd>1" in page.text
    assert "stuck@example.com" in page.text and "Webinar does not exist" in page.text
