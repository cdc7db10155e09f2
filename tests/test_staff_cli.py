"""`flask --app wsgi users create` and `demo seed`: staff are added through the same service as
the console's "Add staff", and refused with the same field messages."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.auth.staff import StaffRejected, add_staff, authenticate
from app.db import db
from app.events.models import Event
from app.followup.models import RoutingRule
from app.models import User
from tests.builders import make_user

GOOD = {
    "--email": "Rita@Example.com",
    "--name": "Rita Rep",
    "--role": "rep",
    "--password": "long enough",
}


def _create(runner, **changes: str):  # type: ignore[no-untyped-def]
    options = {**GOOD, **changes}
    return runner.invoke(
        args=["users", "create", *[part for pair in options.items() for part in pair]]
    )


def _users() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0


def test_users_create_adds_a_staff_user_who_can_log_in_and_a_rep_gets_a_profile(runner, app):
    result = _create(runner)
    assert result.exit_code == 0, result.output
    assert result.output == "created rep rita@example.com\n"
    user = authenticate("rita@example.com", "long enough")
    assert user is not None and user.name == "Rita Rep" and user.role == "rep"
    assert user.rep_profile is not None


@pytest.mark.parametrize(
    ("changes", "option", "values"),
    [
        ({"--email": "nope"}, "--email", ("nope", "Rita Rep", "rep", "long enough")),
        ({"--name": "  "}, "--name", ("rita@example.com", "  ", "rep", "long enough")),
        (
            {"--name": "Line\nbreak"},
            "--name",
            ("rita@example.com", "Line\nbreak", "rep", "long enough"),
        ),
        ({"--name": "x" * 121}, "--name", ("rita@example.com", "x" * 121, "rep", "long enough")),
        ({"--password": "short"}, "--password", ("rita@example.com", "Rita Rep", "rep", "short")),
    ],
)
def test_users_create_refuses_what_the_staff_service_refuses_with_its_message(
    runner, app, changes, option, values
):
    with pytest.raises(StaffRejected) as refused:
        add_staff(*values)
    (why,) = refused.value.fields.values()
    result = _create(runner, **changes)
    assert result.exit_code == 1
    assert f"Error: {option}: {why}" in result.output
    assert _users() == 0


def test_users_create_refuses_an_email_already_taken_whatever_its_case(runner, app):
    make_user("marketer", email="rita@example.com")
    result = _create(runner, **{"--email": "RITA@example.com"})
    assert result.exit_code == 1
    assert "Error: --email: A staff user with this email already exists." in result.output
    assert _users() == 1


def test_users_create_offers_exactly_the_roles_of_the_role_table(runner, app):
    result = _create(runner, **{"--role": "superuser"})
    assert result.exit_code == 2
    assert "'admin', 'marketer', 'rep'" in result.output
    assert _users() == 0


def test_demo_seed_adds_its_staff_through_the_staff_service_once(runner, app):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert "admin    admin@example.com" in result.output
    marketer = authenticate("mia.marketer@example.com", "demo-marketer-2026")
    assert marketer is not None and marketer.role == "marketer"
    admin = authenticate("admin@example.com", "demo-admin-2026")
    rita = authenticate("rita.rep@example.com", "demo-rep-2026")
    emil = authenticate("emil.rep@example.com", "demo-rep-2026")
    assert admin is not None and admin.role == "admin" and admin.rep_profile is None
    assert rita is not None and rita.rep_profile is not None
    assert (rita.rep_profile.countries, rita.rep_profile.timezone) == (
        ["CA", "US"],
        "America/New_York",
    )
    assert emil is not None and emil.rep_profile is not None
    assert (emil.rep_profile.countries, emil.rep_profile.timezone) == (
        ["DE", "FR", "GB"],
        "Europe/Berlin",
    )
    event = db.session.scalar(select(Event).where(Event.slug == "demo-webinar"))
    assert event is not None and event.status == "published"
    assert db.session.scalar(select(func.count()).select_from(RoutingRule)) == 2

    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0
    # A second seed (every `make run`) adds nobody and prints the logins again.
    assert "Demo already seeded" in again.output
    assert "admin    admin@example.com" in again.output
    assert _users() == 4  # the admin, the marketer and the two reps


def test_every_face_offers_exactly_the_roles_of_the_one_role_table(app):
    from sqlalchemy.exc import IntegrityError

    from app.admin.forms import StaffForm
    from app.auth.access import roles_required
    from app.auth.cli import users_create
    from app.models import ROLES

    (role_option,) = [param for param in users_create.params if param.name == "role"]
    assert tuple(role_option.type.choices) == ROLES  # type: ignore[attr-defined]
    with app.test_request_context():
        form = StaffForm(meta={"csrf": False})
        assert tuple(value for value, _label in form.role.choices) == ROLES  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="unknown roles: superuser"):
        roles_required("superuser")
    user = make_user("rep")
    user.role = "superuser"
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
