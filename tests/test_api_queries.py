"""Lists cost the same number of queries whatever their length (no query per item)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import update

from app.db import db, utcnow
from app.registrations.models import Lead
from tests.builders import bearer, counting_queries, make_event, make_user, register_person


def queries(client, path: str, headers: dict[str, str]) -> int:  # type: ignore[no-untyped-def]
    with counting_queries() as statements:
        response = client.get(path, headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["items"], "the list should not be empty"
    return len(statements)


def same_cost(client, path: str, headers: dict[str, str], add: Callable[[int], None]) -> None:  # type: ignore[no-untyped-def]
    # A token's first call in a minute also records its use; only the list's cost is compared.
    client.get(path, headers=headers)
    for number in range(3):
        add(number)
    few = queries(client, path, headers)
    for number in range(3, 30):
        add(number)
    assert queries(client, path, headers) == few


def test_listing_events_costs_the_same_queries_for_3_or_30(client, app):
    admin = bearer(make_user("admin"))
    start = utcnow() + timedelta(days=1)

    def add(number: int) -> None:
        make_event(slug=f"event-{number}", campaign=f"Campaign {number}", starts_at=start)

    same_cost(client, "/api/v1/events?limit=500", admin, add)


def test_listing_registrations_costs_the_same_queries_for_3_or_30(client, event):
    marketer = bearer(make_user("marketer"))

    def add(number: int) -> None:
        register_person(event, f"person{number}@example.com")

    same_cost(client, "/api/v1/events/launch-webinar/registrations?limit=500", marketer, add)


def test_listing_leads_costs_the_same_queries_for_3_or_30(client, event):
    admin = bearer(make_user("admin"))
    rep = make_user("rep")

    def add(number: int) -> None:
        register_person(event, f"person{number}@example.com")
        db.session.execute(
            update(Lead).where(Lead.email == f"person{number}@example.com").values(owner_id=rep.id)
        )
        db.session.commit()

    same_cost(client, "/api/v1/leads?limit=500", admin, add)


def test_listing_reps_costs_the_same_queries_for_3_or_30(client, app):
    admin = bearer(make_user("admin"))

    def add(number: int) -> None:
        make_user("rep", f"rep{number}@example.com")

    same_cost(client, "/api/v1/reps?limit=500", admin, add)
