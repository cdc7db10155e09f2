"""Settings, for admins: staff users and their roles, rep profiles for routing, the email sender."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.db import db
from app.models import RepProfile, Setting, User
from app.sender import Sender, current_sender
from tests.builders import csrf_token, form_token, log_in, make_user


@pytest.fixture
def admin(app):  # type: ignore[no-untyped-def]
    return make_user("admin", email="root@example.com")


@pytest.fixture
def staff(client, admin):  # type: ignore[no-untyped-def]
    log_in(client, admin)
    return client


def _post(client, path, **data):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get(path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def _error(html: str, field: str) -> str:
    parts = html.split(f'id="{field}-error">', 1)
    assert len(parts) == 2, f"no error next to {field}"
    return parts[1].split("</p>", 1)[0]


def test_marketers_and_reps_cannot_reach_settings(client, app):
    for role in ("marketer", "rep"):
        other = app.test_client()
        log_in(other, make_user(role))
        assert other.get("/admin/settings").status_code == 403
        # A valid token, so the role check is what refuses (not the CSRF check before it).
        token = form_token(other, "/admin/events" if role == "marketer" else "/followups")
        staff_form = {"csrf_token": token, "email": "x@example.com", "name": "X", "role": "admin"}
        assert other.post("/admin/settings/staff/new", data=staff_form).status_code == 403


# Staff


def test_an_admin_adds_a_marketer_who_can_then_log_in(staff, app):
    response = _post(
        staff,
        "/admin/settings/staff/new",
        name="Mia Marketer",
        email="Mia@Example.com",
        role="marketer",
        password="a long password",
    )
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.email == "mia@example.com"))
    assert (user.name, user.role, user.active) == ("Mia Marketer", "marketer", True)
    assert user.password_hash.startswith("scrypt:")
    newcomer = app.test_client()
    log_in(newcomer, user, password="a long password")
    assert newcomer.get("/admin/events").status_code == 200


def test_a_new_rep_gets_a_rep_profile(staff):
    _post(
        staff,
        "/admin/settings/staff/new",
        name="Rita",
        email="rita@example.com",
        role="rep",
        password="a long password",
    )
    user = db.session.scalar(select(User).where(User.email == "rita@example.com"))
    assert user.rep_profile is not None


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email": "nope"}, "email", "email address"),
        ({"email": ""}, "email", "Enter an email address."),
        ({"name": ""}, "name", "Enter a name."),
        ({"name": "Line\nbreak"}, "name", "one line"),
        ({"password": "short"}, "password", "at least 8 characters"),
        ({"password": ""}, "password", "Choose a first password, or send an invitation."),
        ({"role": "superuser"}, "role", "Not a valid choice"),
        ({"email": "root@example.com"}, "email", "already exists"),
    ],
)
def test_adding_staff_names_bad_input_next_to_the_field(staff, fields, field, message):
    data = {
        "name": "New",
        "email": "new@example.com",
        "role": "marketer",
        "password": "long enough",
    }
    data.update(fields)
    response = _post(staff, "/admin/settings/staff/new", **data)
    assert response.status_code == 422
    assert message in _error(response.get_data(as_text=True), field)
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_an_admin_changes_a_role_and_deactivates_an_account(staff, app):
    marketer = make_user("marketer")
    other = app.test_client()
    log_in(other, marketer)
    path = f"/admin/settings/staff/{marketer.id}"
    assert _post(staff, path, name="Renamed", role="rep", active="y").status_code == 303
    db.session.expire_all()
    assert (marketer.name, marketer.role) == ("Renamed", "rep")
    assert marketer.rep_profile is not None
    assert other.get("/admin/events").status_code == 403  # the new role counts at once
    assert _post(staff, path, name="Renamed", role="rep").status_code == 303  # box unticked
    db.session.expire_all()
    assert marketer.active is False
    assert other.get("/followups").status_code == 302  # the open session is over


def test_a_new_password_must_be_long_enough_and_nothing_else_changes_otherwise(staff):
    marketer = make_user("marketer")
    path = f"/admin/settings/staff/{marketer.id}"
    response = _post(staff, path, name="Changed", role="admin", active="y", password="short")
    assert response.status_code == 422
    assert "at least 8" in _error(response.get_data(as_text=True), "password")
    db.session.expire_all()
    assert (marketer.name, marketer.role) == ("Marketer", "marketer")
    _post(staff, path, name="Marketer", role="marketer", active="y", password="fresh password")
    db.session.expire_all()
    assert marketer.check_password("fresh password")


def test_the_last_admin_cannot_lock_everyone_out(staff, admin):
    path = f"/admin/settings/staff/{admin.id}"
    demoted = _post(staff, path, name="Root", role="marketer", active="y")
    assert demoted.status_code == 422
    assert "your own admin role" in _error(demoted.get_data(as_text=True), "role")
    deactivated = _post(staff, path, name="Root", role="admin")
    assert "cannot deactivate your own account" in _error(
        deactivated.get_data(as_text=True), "active"
    )
    db.session.expire_all()
    assert (admin.role, admin.active) == ("admin", True)


def test_another_admin_can_be_demoted_while_one_admin_remains(staff):
    second = make_user("admin")
    response = _post(staff, f"/admin/settings/staff/{second.id}", name="Two", role="marketer")
    assert response.status_code == 303
    db.session.expire_all()
    assert (second.role, second.active) == ("marketer", False)


# Rep profiles


def _rep_form(client, user, **changes):  # type: ignore[no-untyped-def]
    data = {
        "rep-countries": "us, CA",
        "rep-segments": "Enterprise, mid market",
        "rep-weight": "2",
        "rep-capacity": "25",
        "rep-out_of_office_until": "2030-12-24",
        "rep-timezone": "America/New_York",
        "rep-active": "y",
    }
    data.update(changes)
    path = f"/admin/settings/staff/{user.id}"
    token = csrf_token(client.get(path).get_data(as_text=True))
    return client.post(f"{path}/rep-profile", data={"rep-csrf_token": token, **data})


def test_an_admin_sets_a_reps_territory_capacity_and_absence(staff):
    rep = make_user("rep")
    response = _rep_form(staff, rep)
    assert response.status_code == 303
    profile = db.session.scalar(select(RepProfile).where(RepProfile.user_id == rep.id))
    db.session.refresh(profile)
    assert profile.countries == ["CA", "US"]
    assert profile.segments == ["enterprise", "mid market"]
    assert (profile.weight, profile.capacity, profile.timezone) == (2, 25, "America/New_York")
    assert profile.out_of_office_until == date(2030, 12, 24)
    page = staff.get(f"/admin/settings/staff/{rep.id}").get_data(as_text=True)
    assert 'value="CA, US"' in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"rep-countries": "US, Atlantis"}, "rep-countries", "ISO 3166"),
        ({"rep-countries": "XX"}, "rep-countries", "ISO 3166"),
        ({"rep-weight": "0"}, "rep-weight", "1 to 100"),
        ({"rep-weight": "many"}, "rep-weight", "whole number"),
        ({"rep-weight": ""}, "rep-weight", "Enter a weight"),
        ({"rep-capacity": "-1"}, "rep-capacity", "0 or more"),
        ({"rep-out_of_office_until": "soon"}, "rep-out_of_office_until", "2026-12-24"),
        ({"rep-timezone": "Nowhere/Land"}, "rep-timezone", "IANA time zone"),
        ({"rep-segments": "x" * 61}, "rep-segments", "under 60"),
    ],
)
def test_bad_rep_profile_input_is_named_next_to_the_field(staff, changes, field, message):
    rep = make_user("rep")
    response = _rep_form(staff, rep, **changes)
    assert response.status_code == 422
    assert message in _error(response.get_data(as_text=True), field)
    profile = db.session.scalar(select(RepProfile).where(RepProfile.user_id == rep.id))
    db.session.refresh(profile)
    assert (profile.countries, profile.weight) == ([], 1)


def test_a_user_without_a_rep_profile_has_no_rep_form(staff):
    marketer = make_user("marketer")
    assert "Rep profile" not in staff.get(f"/admin/settings/staff/{marketer.id}").get_data(
        as_text=True
    )
    path = f"/admin/settings/staff/{marketer.id}"
    token = csrf_token(staff.get(path).get_data(as_text=True))
    response = staff.post(f"{path}/rep-profile", data={"rep-csrf_token": token})
    assert response.status_code == 404


# Sender


def test_the_sender_defaults_to_mail_default_sender_and_is_saved_as_a_setting(staff, app):
    app.config["MAIL_DEFAULT_SENDER"] = "Events Team <events@example.com>"
    page = staff.get("/admin/settings").get_data(as_text=True)
    assert 'value="Events Team"' in page and 'value="events@example.com"' in page
    response = _post(staff, "/admin/settings", name="Acme Events", email="hello@acme.example")
    assert response.status_code == 303
    setting = db.session.get(Setting, "sender")
    assert setting.value == {"name": "Acme Events", "email": "hello@acme.example"}
    assert current_sender() == Sender("Acme Events", "hello@acme.example")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the name emails come from."),
        ({"name": "Acme\r\nBcc: victim@example.com"}, "name", "one line"),
        ({"email": "not an address"}, "email", "email address"),
        ({"email": ""}, "email", "Enter the address emails come from."),
    ],
)
def test_a_bad_sender_is_refused_next_to_the_field(staff, fields, field, message):
    data = {"name": "Acme Events", "email": "hello@acme.example"}
    data.update(fields)
    response = _post(staff, "/admin/settings", **data)
    assert response.status_code == 422
    assert message in _error(response.get_data(as_text=True), field)
    assert db.session.get(Setting, "sender") is None


def test_staff_names_with_markup_are_shown_as_text(staff):
    make_user("marketer", email="odd@example.com").name = "<script>alert(1)</script>"
    db.session.commit()
    html = staff.get("/admin/settings").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
