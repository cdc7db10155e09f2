"""The event console in a real browser: a marketer logs in, creates and publishes an event, sees
a registration arrive from the public page, and cancels with a confirmation step; every console
page passes the accessibility check and fits a tablet."""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.db import db
from app.events.models import Event
from app.registrations.models import Registration
from tests.a11y import assert_accessible
from tests.builders import make_event, make_user, register_person

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}


def log_in(page: Page, user) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    assert_accessible(page)
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill("password123")
    page.get_by_role("button", name="Log in").click()


def screenshot(page: Page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, _height = struct.unpack(">II", data[16:24])
    assert width == page.viewport_size["width"]
    assert len(data) > 15_000, f"{path} looks blank ({len(data)} bytes)"


def fresh(model, **where):  # type: ignore[no-untyped-def]
    db.session.rollback()  # read what the server committed
    return db.session.scalars(select(model).filter_by(**where)).one()


def test_a_marketer_publishes_an_event_and_sees_a_registration_arrive(
    open_context, live_server, app, tmp_path
):
    marketer = make_user("marketer", email="mia@example.com")
    staff = open_context(timezone_id="Europe/Berlin").new_page()
    log_in(staff, marketer)
    expect(staff.get_by_role("heading", level=1)).to_have_text("Events")
    assert_accessible(staff)

    staff.get_by_role("link", name="New event").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("New event")
    # The zone picker starts on the browser's own zone.
    expect(staff.get_by_label("Time zone")).to_have_value("Europe/Berlin")
    staff.get_by_label("Title").fill("Browser-made webinar <b>bold</b>")
    staff.get_by_label("Description").fill("## Agenda\n\n- **Demo**\n- Q&A")
    staff.get_by_label("Starts at").fill("2030-07-01T10:00")
    staff.get_by_label("Duration").fill("45")
    staff.get_by_label("Capacity").fill("50")
    staff.get_by_label("Join link").fill("https://meet.example.com/browser")
    staff.get_by_label("Campaign").fill("Summer 2030")
    assert_accessible(staff)
    staff.get_by_role("button", name="Save draft").click()

    expect(staff.get_by_role("heading", level=1)).to_contain_text(
        "Browser-made webinar <b>bold</b>"
    )
    expect(staff.locator(".flash-ok")).to_contain_text("Draft saved")
    event = fresh(Event)
    assert event.status == "draft"
    assert event.starts_at == datetime(2030, 7, 1, 8, 0, tzinfo=UTC)
    assert_accessible(staff)

    staff.get_by_role("link", name="Preview").click()
    expect(staff.locator(".preview-banner")).to_contain_text("not public yet")
    expect(staff.get_by_role("heading", level=2, name="Agenda")).to_be_visible()
    assert_accessible(staff)
    screenshot(staff, tmp_path / "preview.png")
    staff.go_back()

    staff.get_by_role("button", name="Publish").click()
    expect(staff.locator(".flash-ok")).to_contain_text("Published")
    screenshot(staff, tmp_path / "event.png")

    visitor = open_context().new_page()
    visitor.goto(f"/e/{event.slug}")
    visitor.get_by_label("Work email").fill("grace@navy.example")
    visitor.get_by_label("First name").fill("Grace")
    visitor.get_by_label("Last name").fill("Hopper")
    visitor.get_by_label("Company").fill("US Navy")
    visitor.get_by_role("button", name="Reserve my spot").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("You're registered")

    staff.get_by_role("link", name="See registrations").click()
    row = staff.get_by_role("row").filter(has_text="grace@navy.example")
    expect(row).to_contain_text("Grace Hopper")
    expect(row).to_contain_text("confirmed")
    staff.get_by_label("Search by email, name or company").fill("navy")
    staff.get_by_role("button", name="Search").click()
    expect(staff.locator(".summary")).to_have_text("Showing 1–1 of 1")
    assert_accessible(staff)
    screenshot(staff, tmp_path / "registrations.png")


def test_cancelling_an_event_takes_a_confirmation(open_context, live_server, app, tmp_path):
    event = make_event(slug="to-cancel", title="To be cancelled")
    register_person(event, "a@example.com")
    page = open_context().new_page()
    log_in(page, make_user("marketer"))
    page.goto("/admin/events/to-cancel")
    page.get_by_role("link", name="Cancel event…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cancel")
    expect(page.locator("main")).to_contain_text("1 registrant")
    assert_accessible(page)

    page.get_by_role("button", name="Cancel the event").click()
    expect(page.locator("#confirm-error")).to_have_text("Tick the box to confirm the cancellation.")
    assert_accessible(page)
    assert fresh(Event).status == "published"

    page.get_by_label("Yes, cancel this event").check()
    page.get_by_role("button", name="Cancel the event").click()
    expect(page.locator("h1 .badge")).to_have_text("cancelled")
    assert fresh(Event).status == "cancelled"
    screenshot(page, tmp_path / "cancelled.png")


def test_cancelling_a_registration_asks_first(open_context, live_server, app):
    event = make_event(capacity=1)
    register_person(event, "seated@example.com")
    register_person(event, "waiting@example.com")
    page = open_context().new_page()
    log_in(page, make_user("marketer"))
    page.goto("/admin/events/launch-webinar/registrations")
    row = page.get_by_role("row").filter(has_text="seated@example.com")

    page.once("dialog", lambda dialog: dialog.dismiss())
    row.get_by_role("button", name="Cancel").click()
    expect(row).to_contain_text("confirmed")
    assert fresh(Registration, email="seated@example.com").status == "confirmed"

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Cancel").click()
    expect(page.locator(".flash-ok")).to_contain_text("waiting@example.com moved up")
    assert fresh(Registration, email="waiting@example.com").status == "confirmed"


def test_every_console_page_is_accessible_and_fits_a_tablet(open_context, live_server, app):
    event = make_event(slug="walk", location="Hall B, Berlin", capacity=1)
    register_person(event, "seated@example.com", company="A rather long company name GmbH")
    register_person(event, "waiting@example.com")
    rep = make_user("rep")
    page = open_context(viewport=TABLET).new_page()
    log_in(page, make_user("admin"))
    for path in (
        "/admin/events",
        "/admin/events/new",
        "/admin/events/walk",
        "/admin/events/walk/edit",
        "/admin/events/walk/preview",
        "/admin/events/walk/cancel",
        "/admin/events/walk/registrations",
        "/admin/events/walk/registrations/new",
        "/admin/settings",
        "/admin/settings/platforms",
        "/admin/settings/staff/new",
        f"/admin/settings/staff/{rep.id}",
        "/logout",
    ):
        page.goto(path)
        assert_accessible(page)
        content, viewport = page.evaluate(
            "[document.scrollingElement.scrollWidth, window.innerWidth]"
        )
        assert content <= viewport, f"{path} scrolls sideways on a tablet ({content}px)"

    # Errors sit next to their fields, and the page still passes.
    page.goto("/admin/events/new")
    # The picker always holds a zone (UTC until the browser names its own): no empty choice.
    assert page.get_by_label("Time zone").input_value() == "UTC"
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#title-error")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    page.goto(f"/admin/settings/staff/{rep.id}")
    page.get_by_label("Territory countries").fill("US, Atlantis")
    page.get_by_role("button", name="Save rep profile").click()
    expect(page.locator("#rep-countries-error")).to_contain_text("Atlantis")
    assert_accessible(page)


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "attendance"


def test_a_marketer_imports_attendance_and_opens_the_report(
    open_context, live_server, app, tmp_path
):
    marketer = make_user("marketer", email="mia@example.com")
    event = make_event(slug="past-webinar", title="Past webinar", duration_minutes=60)
    for email in ("ada@example.com", "bob@example.com", "cyd@example.com"):
        register_person(event, email, utm_source="newsletter", utm_medium="email")
    staff = open_context(viewport=TABLET).new_page()
    log_in(staff, marketer)

    staff.goto(f"/admin/events/{event.slug}")
    staff.get_by_role("link", name="Import attendance").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("Import attendance")
    assert_accessible(staff)
    # A Zoom-style plain export: Ada joined twice, a walk-in never registered, Cyd never came.
    staff.locator("input[type=file]").set_input_files(str(FIXTURES / "plain_email_minutes.csv"))
    staff.get_by_role("button", name="Upload and preview").click()

    expect(staff.get_by_role("heading", level=1)).to_have_text("Check before applying")
    expect(staff.get_by_role("heading", name="Attended (2)")).to_be_visible()
    expect(staff.get_by_role("heading", name="No-shows (1)")).to_be_visible()
    expect(
        staff.get_by_role("heading", name="In the report without a registration (1)")
    ).to_be_visible()
    assert_accessible(staff)
    screenshot(staff, tmp_path / "attendance-preview.png")
    assert fresh(Registration, email="ada@example.com").attended_minutes is None  # preview only

    staff.get_by_role("button", name="Apply to Past webinar").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("Import attendance")
    assert fresh(Registration, email="ada@example.com").attended_minutes == 58
    assert fresh(Registration, email="cyd@example.com").attended_minutes == 0

    staff.goto(f"/admin/events/{event.slug}")
    staff.get_by_role("link", name="Report", exact=True).click()
    expect(staff.get_by_role("heading", level=1)).to_contain_text("Past webinar")
    expect(staff.locator("svg").first).to_be_visible()
    funnel = staff.locator("#funnel-table")
    expect(funnel).to_contain_text("Attended")
    expect(staff.locator("#sources-table")).to_contain_text("newsletter")
    assert_accessible(staff)
    screenshot(staff, tmp_path / "event-report.png")
