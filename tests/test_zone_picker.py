"""The event form's time-zone picker: the zones people mean first, each with its UTC offset
and city, none of tzdata's odd names; a new event starts in UTC until the browser says its own
zone; the API still takes any IANA name."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from app.admin.zones import ALL_GROUP, COMMON, COMMON_GROUP, label, zone_choices
from app.db import db
from app.events.models import Event
from tests.builders import bearer, make_event, make_user

JUNK = ("Factory", "localtime", "posixrules", "Etc/GMT+5", "US/Eastern", "GMT0", "EST5EDT")
WINTER = datetime(2030, 1, 15, 12, tzinfo=UTC)
SUMMER = datetime(2030, 7, 15, 12, tzinfo=UTC)


def options(html: str) -> list[tuple[str, str]]:
    select = html.split('id="timezone"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select)


def test_common_zones_come_first_in_their_own_group():
    choices = zone_choices(at=WINTER)
    assert list(choices) == [COMMON_GROUP, ALL_GROUP]
    assert [zone for zone, _ in choices[COMMON_GROUP]] == list(COMMON)
    assert not {zone for zone, _ in choices[ALL_GROUP]} & set(COMMON)


def test_labels_give_the_offset_the_city_and_the_iana_name():
    assert label("America/New_York", WINTER) == "(UTC−05:00) New York — America/New_York"
    assert label("America/New_York", SUMMER) == "(UTC−04:00) New York — America/New_York"
    assert label("Asia/Kolkata", WINTER) == "(UTC+05:30) Kolkata — Asia/Kolkata"
    assert (
        label("America/Argentina/Buenos_Aires", WINTER)
        == "(UTC−03:00) Buenos Aires — America/Argentina/Buenos_Aires"
    )


def test_the_picker_holds_no_junk_names_and_every_place_zone_once():
    zones = [zone for group in zone_choices(at=WINTER).values() for zone, _ in group]
    assert len(zones) == len(set(zones))
    assert not set(JUNK) & set(zones)
    assert not [zone for zone in zones if zone.startswith(("Etc/", "SystemV/"))]
    assert {"Europe/Kyiv", "Pacific/Auckland", "America/Argentina/Buenos_Aires"} <= set(zones)
    assert len(zones) > 300


def test_the_rest_are_ordered_west_to_east():
    rest = [zone for zone, _ in zone_choices(at=WINTER)[ALL_GROUP]]
    assert rest.index("Pacific/Honolulu") < rest.index("America/Halifax")
    assert rest.index("America/Halifax") < rest.index("Europe/Lisbon")
    assert rest.index("Europe/Lisbon") < rest.index("Asia/Karachi") < rest.index("Pacific/Auckland")


def test_a_new_event_starts_in_utc_and_asks_the_browser_for_its_zone(staff):
    html = staff.get("/admin/events/new").get_data(as_text=True)
    select = html.split('id="timezone"', 1)[0].rsplit("<select", 1)[1]
    assert "data-browser-zone" in select
    picked = [value for value, _ in re.findall(r'<option selected value="([^"]*)">([^<]*)', html)]
    assert "UTC" in picked
    listed = options(html)
    assert listed[0][0] == "UTC"
    assert ("America/New_York", label("America/New_York", datetime.now(UTC))) in listed
    assert not set(JUNK) & {value for value, _ in listed}


def test_editing_an_event_keeps_its_zone_even_one_the_picker_does_not_list(staff, app):
    event = make_event(timezone="US/Eastern")
    html = staff.get(f"/admin/events/{event.slug}/edit").get_data(as_text=True)
    assert "data-browser-zone" not in html
    selected = re.findall(r'<option selected value="([^"]*)"', html.split('id="timezone"', 1)[1])
    assert selected[0] == "US/Eastern"


def test_the_api_still_accepts_any_iana_zone(client, app):
    headers = bearer(make_user("marketer"))
    body = {
        "title": "Odd zone",
        "slug": "odd-zone",
        "starts_at": "2030-07-01T10:00:00+00:00",
        "duration_minutes": 30,
        "timezone": "Etc/GMT+5",
    }
    response = client.post("/api/v1/events", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert (
        db.session.scalar(db.select(Event.timezone).where(Event.slug == "odd-zone")) == "Etc/GMT+5"
    )
