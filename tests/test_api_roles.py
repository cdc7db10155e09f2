"""Who may make each staff call: anonymous callers get 401, the wrong role 403, and neither
changes anything."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from app.db import db
from app.events.models import Event
from app.models import User
from app.registrations.models import Lead, Registration
from tests.builders import bearer, make_event, make_user, register_person

EVENT = {
    "slug": "new-event",
    "title": "New event",
    "starts_at": "2031-01-01T10:00:00Z",
    "duration_minutes": 30,
    "timezone": "UTC",
}

# call, path, body, expected status for: anonymous, rep, marketer, admin
CALLS = [
    ("GET", "/api/v1/events/launch-webinar", None, (401, 200, 200, 200)),
    ("POST", "/api/v1/events", EVENT, (401, 403, 201, 201)),
    ("PATCH", "/api/v1/events/launch-webinar", {"title": "Renamed"}, (401, 403, 200, 200)),
    ("POST", "/api/v1/events/launch-webinar/cancel", None, (401, 403, 200, 200)),
    ("GET", "/api/v1/events/launch-webinar/registrations", None, (401, 403, 200, 200)),
    ("GET", "/api/v1/leads", None, (401, 200, 200, 200)),
    ("GET", "/api/v1/leads/{lead}", None, (401, 404, 200, 200)),
    ("GET", "/api/v1/reps", None, (401, 403, 403, 200)),
    ("POST", "/api/v1/reps", {"email": "new.rep@example.com", "name": "New"}, (401, 403, 403, 201)),
    ("PATCH", "/api/v1/reps/{rep}", {"weight": 5}, (401, 403, 403, 200)),
]
ROLES = ("anonymous", "rep", "marketer", "admin")


def snapshot() -> tuple:  # type: ignore[type-arg]
    db.session.expire_all()
    counts = tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Event, User, Registration, Lead)
    )
    event = db.session.scalars(select(Event).where(Event.slug == "launch-webinar")).one()
    rep = db.session.scalars(select(User).where(User.email == "owner@example.com")).one()
    assert rep.rep_profile is not None
    return (*counts, event.title, event.status, rep.rep_profile.weight)


@pytest.mark.parametrize(("method", "path", "body", "expected"), CALLS)
@pytest.mark.parametrize("role", ROLES)
def test_each_staff_call_lets_in_only_its_roles(client, app, method, path, body, expected, role):
    event = make_event()
    owner = make_user("rep", "owner@example.com")
    lead_id = register_person(event, "ada@example.com").lead_id
    db.session.execute(update(Lead).values(owner_id=owner.id))
    db.session.commit()
    headers = {} if role == "anonymous" else bearer(make_user(role))
    before = snapshot()

    url = path.format(lead=lead_id, rep=owner.id)
    response = client.open(url, method=method, json=body, headers=headers)

    status = expected[ROLES.index(role)]
    assert response.status_code == status, response.json
    if status >= 400:
        assert set(response.json["error"]) == {"code", "message", "fields"}
        assert snapshot() == before
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer rsv_not-a-real-token", "Bearer ", "Basic YWRtaW46YWRtaW4=", "rsv_no-scheme"],
)
def test_a_bad_token_is_401_even_where_no_token_is_needed(client, event, header):
    response = client.get("/api/v1/events", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_a_deactivated_users_token_stops_working(client, event):
    admin = make_user("admin")
    headers = bearer(admin)
    assert client.get("/api/v1/reps", headers=headers).status_code == 200
    admin.active = False
    db.session.commit()
    assert client.get("/api/v1/reps", headers=headers).status_code == 401
