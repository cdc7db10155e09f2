"""The reps API (admin only): adding reps and changing what routing knows about them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.auth import passwords
from app.db import db
from app.mail.models import OutboxMessage
from app.models import RepProfile, User
from tests.builders import bearer, make_user
from tests.test_password_links import link_in, set_password

REP_FIELDS = {
    "id",
    "email",
    "name",
    "countries",
    "segments",
    "weight",
    "capacity",
    "active",
    "meeting_url",
}


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def admin(app):  # type: ignore[no-untyped-def]
    return bearer(make_user("admin"))


def new_rep(**overrides):  # type: ignore[no-untyped-def]
    body = {
        "email": "Rita.Rep@Example.com",
        "name": "Rita Rep",
        "countries": ["us", "CA"],
        "segments": ["Enterprise"],
        "weight": 2,
        "capacity": 40,
        "active": True,
    }
    body.update(overrides)
    return body


def test_adding_a_rep_makes_a_staff_user_and_profile(client, admin):
    response = client.post("/api/v1/reps", json=new_rep(), headers=admin)
    assert response.status_code == 201, response.json
    body = response.json
    assert set(body) == REP_FIELDS
    assert body["email"] == "rita.rep@example.com"
    assert sorted(body["countries"]) == ["CA", "US"]
    assert (body["weight"], body["capacity"], body["active"]) == (2, 40, True)
    user = db.session.get(User, body["id"])
    assert user.role == "rep"
    assert user.rep_profile is not None and user.rep_profile.weight == 2
    # Nobody knows the password it was given, so it cannot be guessed from anything we saw.
    assert not user.check_password("")
    assert not user.check_password("password123")


def invitations() -> list[OutboxMessage]:
    kind = OutboxMessage.kind == passwords.INVITATION
    return list(db.session.scalars(select(OutboxMessage).where(kind)))


def test_a_rep_added_through_the_api_is_invited_to_set_their_password(client, app, admin):
    response = client.post("/api/v1/reps", json=new_rep(), headers=admin)
    assert response.status_code == 201, response.json
    (letter,) = invitations()
    assert letter.recipient == "rita.rep@example.com" and letter.status == "pending"
    assert "invited" in letter.subject

    rita = app.test_client()
    assert set_password(rita, link_in(letter), "rita's own secret").status_code == 303
    assert db.session.get(User, response.json["id"]).check_password("rita's own secret")


def test_a_refused_rep_is_not_invited(client, admin):
    response = client.post("/api/v1/reps", json=new_rep(countries=["Narnia"]), headers=admin)
    assert response.status_code == 422, response.json
    assert invitations() == []


def test_a_rep_needs_only_email_and_name(client, admin):
    response = client.post(
        "/api/v1/reps", json={"email": "emil@example.com", "name": "Emil"}, headers=admin
    )
    assert response.status_code == 201, response.json
    assert response.json["countries"] == [] and response.json["weight"] == 1
    assert response.json["capacity"] is None and response.json["active"] is True


def test_an_email_already_used_by_staff_in_any_case_is_a_409(client, admin):
    make_user("marketer", "rita.rep@example.com")
    before = count(User)
    response = client.post("/api/v1/reps", json=new_rep(), headers=admin)
    assert response.status_code == 409
    assert "email" in response.json["error"]["fields"]
    assert count(User) == before


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("email", "rita", "@-sign"),
        ("name", "", "blank"),
        ("countries", ["US", "Narnia"], "ISO 3166"),
        ("countries", "US", "list"),
        ("segments", [""], "blank"),
        ("weight", 0, "from 1"),
        ("weight", 1000, "from 1"),
        ("capacity", -1, "at least 0"),
        ("active", "sometimes", "boolean"),
    ],
)
def test_bad_rep_fields_are_refused_naming_the_field(client, admin, field, value, words):
    users, profiles = count(User), count(RepProfile)
    response = client.post("/api/v1/reps", json=new_rep(**{field: value}), headers=admin)
    assert response.status_code == 422, response.json
    assert words in response.json["error"]["fields"][field]
    assert (count(User), count(RepProfile)) == (users, profiles)


def test_listing_reps_shows_reps_only(client, admin):
    make_user("marketer")
    client.post("/api/v1/reps", json=new_rep(), headers=admin)
    body = client.get("/api/v1/reps", headers=admin).json
    assert [item["email"] for item in body["items"]] == ["rita.rep@example.com"]
    assert body["total"] == 1 and body["next"] is None


def test_patch_changes_only_the_fields_given(client, admin):
    rep_id = client.post("/api/v1/reps", json=new_rep(), headers=admin).json["id"]
    response = client.patch(
        f"/api/v1/reps/{rep_id}",
        json={"countries": ["de"], "capacity": None, "active": False, "name": "Rita R."},
        headers=admin,
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert body["countries"] == ["DE"]
    assert body["capacity"] is None and body["active"] is False
    assert body["name"] == "Rita R."
    assert body["weight"] == 2 and body["email"] == "rita.rep@example.com"


def test_patch_can_change_the_email_but_not_to_one_in_use(client, admin):
    rep_id = client.post("/api/v1/reps", json=new_rep(), headers=admin).json["id"]
    make_user("rep", "taken@example.com")
    moved = client.patch(
        f"/api/v1/reps/{rep_id}", json={"email": "Rita@New.example"}, headers=admin
    )
    assert moved.status_code == 200 and moved.json["email"] == "rita@new.example"
    clash = client.patch(
        f"/api/v1/reps/{rep_id}", json={"email": "TAKEN@example.com"}, headers=admin
    )
    assert clash.status_code == 409
    assert "email" in clash.json["error"]["fields"]


def test_a_refused_patch_changes_nothing(client, admin):
    rep_id = client.post("/api/v1/reps", json=new_rep(), headers=admin).json["id"]
    response = client.patch(
        f"/api/v1/reps/{rep_id}", json={"name": "New name", "weight": -3}, headers=admin
    )
    assert response.status_code == 422
    assert "weight" in response.json["error"]["fields"]
    db.session.expire_all()
    assert db.session.get(User, rep_id).name == "Rita Rep"


def test_patching_someone_who_is_not_a_rep_is_404(client, admin):
    marketer = make_user("marketer")
    for rep_id in (marketer.id, 424242):
        response = client.patch(f"/api/v1/reps/{rep_id}", json={"weight": 3}, headers=admin)
        assert response.status_code == 404
