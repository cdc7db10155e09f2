"""Approval under load: staff approving registrations while a crowd registers never gives a
seat twice, and two staff deciding the same registration decide it once.

Like tests/test_seats_under_load.py, gunicorn serves the app with several workers on the
test's own database; every client gets ready (loads the form, or holds its API call) and then
all of them send in the same instant.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import select

from app.db import db
from app.events.models import Event
from app.events.services import update_event
from app.registrations.models import Registration
from tests.builders import csrf_token, make_event, make_user, token_for
from tests.servers import Server
from tests.test_seats_under_load import (  # noqa: F401  (server_for is a fixture)
    TIMEOUT,
    form,
    guests,
    reserve_together,
    seats_taken,
    server_for,
)

pytestmark = pytest.mark.server

SEATS = 5
CROWD = 16

# One client's request: made ready before the barrier (`prepare`), sent after it.
Send = Callable[[], requests.Response]


def all_at_once(tasks: list[Callable[[requests.Session], Send]]) -> list[requests.Response]:
    """Prepare every task in its own client, then send them all in the same instant."""
    barrier = threading.Barrier(len(tasks))

    def run(prepare: Callable[[requests.Session], Send]) -> requests.Response:
        with requests.Session() as client:
            try:
                send = prepare(client)
            except BaseException:
                barrier.abort()
                raise
            barrier.wait(timeout=TIMEOUT)
            return send()

    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        return list(pool.map(run, tasks))


def registering(server: Server, slug: str, email: str) -> Callable[[requests.Session], Send]:
    def prepare(client: requests.Session) -> Send:
        page = client.get(
            f"{server.url}/e/{slug}", headers={"Connection": "close"}, timeout=TIMEOUT
        )
        data = form(email, csrf_token(page.text))
        return lambda: client.post(
            f"{server.url}/e/{slug}", data=data, allow_redirects=False, timeout=TIMEOUT
        )

    return prepare


def approving(
    server: Server, registration_id: int, token: str
) -> Callable[[requests.Session], Send]:
    def prepare(client: requests.Session) -> Send:
        return lambda: client.post(
            f"{server.url}/api/v1/registrations/{registration_id}/approve",
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT,
        )

    return prepare


def registrations(event: Event) -> list[Registration]:
    db.session.rollback()  # see what the server committed
    return list(db.session.scalars(select(Registration).where(Registration.event_id == event.id)))


def test_approvals_racing_a_crowd_for_the_last_seats_never_give_one_twice(app, server_for):  # noqa: F811
    # The first wave waits without seats; then the event holds a seat for each new pending
    # registration, so the second wave's registrations and the first wave's approvals all
    # take seats from the same few, in the same instant.
    event = make_event(capacity=SEATS, waitlist=True, requires_approval=True)
    server = server_for()
    first_wave = reserve_together(server, event.slug, guests(CROWD, prefix="first"))
    assert Counter(a.status for a in first_wave) == {303: CROWD}
    assert seats_taken(event) == 0
    first_ids = [r.id for r in registrations(event)]
    update_event(db.session.get(Event, event.id), {"approval_holds_seat": True})
    # Two staff approve the same list at once: every registration is approved twice over.
    tokens = [token_for(make_user("marketer")), token_for(make_user("admin"))]

    approvals = [approving(server, rid, token) for rid in first_ids for token in tokens]
    second = [registering(server, event.slug, email) for email in guests(CROWD, prefix="second")]
    answers = all_at_once(approvals + second)

    errors = [a.status_code for a in answers if a.status_code >= 500]
    assert not errors, f"server errors: {errors}\n{server.log()}"
    approval_answers = answers[: len(approvals)]
    assert all(a.status_code == 303 for a in answers[len(approvals) :])
    # Each registration was decided exactly once; the second decision was refused.
    decided = Counter(a.json()["id"] for a in approval_answers if a.status_code == 200)
    assert decided == dict.fromkeys(first_ids, 1)
    assert Counter(a.status_code for a in approval_answers) == {200: CROWD, 409: CROWD}

    rows = registrations(event)
    first = [r for r in rows if r.id in set(first_ids)]
    later = [r for r in rows if r.id not in set(first_ids)]
    confirmed = sum(r.status == "confirmed" for r in first)
    holding = sum(r.approval_seat for r in later)
    assert {r.status for r in first} <= {"confirmed", "waitlisted"}
    assert {r.status for r in later} == {"pending_approval"}
    # Every seat is taken once: by an approved registrant or held for a pending one.
    assert confirmed + holding == SEATS == seats_taken(event)
