"""Seats under real load: simultaneous registrations against gunicorn never oversell.

Each test serves the app with several gunicorn workers on the test's own database and sends a
crowd of registrations through the landing-page form at once: every client first loads the page
(its CSRF token and session cookie), then all of them wait at a barrier and post together.
The last test serves a deliberately racy copy of the app to the same crowd and expects it to
oversell, which shows that the crowd really does catch a race when there is one.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
from sqlalchemy import func, select

from app.db import db
from app.events.models import Event
from app.registrations.models import Lead, Registration
from tests.builders import csrf_token, make_event
from tests.servers import Server, app_env, serve

pytestmark = pytest.mark.server

SEATS = 7
CROWD = 60
TIMEOUT = 60


@dataclass
class Answer:
    """What the server answered one client's registration, and when (client clock)."""

    email: str
    status: int
    location: str
    body: str
    sent: float
    done: float

    @property
    def manage_path(self) -> str:
        return urlparse(self.location).path.removesuffix("/thanks")

    @property
    def created(self) -> bool:
        # A registration made now is sent to its thank-you page; one that already existed
        # gets the neutral "we've emailed its link" page, with no link.
        return self.status == 303


@pytest.fixture
def server_for(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Start gunicorn serving a WSGI app ("module:name") on this test's database."""
    with ExitStack() as servers:

        def start(wsgi_app: str = "wsgi:app") -> Server:
            env = app_env(database_url, tmp_path / "server-instance")
            log = tmp_path / f"gunicorn-{wsgi_app.partition(':')[0]}.log"
            return servers.enter_context(serve(wsgi_app, env, log=log))

        yield start


def form(email: str, token: str) -> dict[str, str]:
    return {"csrf_token": token, "email": email, "first_name": "Guest", "last_name": email[:8]}


def reserve_together(server: Server, slug: str, emails: list[str]) -> list[Answer]:
    """Register every email from its own client, all posting in the same instant."""
    barrier = threading.Barrier(len(emails))

    def reserve(email: str) -> Answer:
        with requests.Session() as client:
            try:
                # A fresh connection for the post: every client connects when the barrier opens.
                page = client.get(
                    f"{server.url}/e/{slug}", headers={"Connection": "close"}, timeout=TIMEOUT
                )
                token = csrf_token(page.text)
            except BaseException:
                barrier.abort()
                raise
            barrier.wait(timeout=TIMEOUT)
            sent = time.perf_counter()
            response = client.post(
                f"{server.url}/e/{slug}",
                data=form(email, token),
                allow_redirects=False,
                timeout=TIMEOUT,
            )
            done = time.perf_counter()
        return Answer(
            email,
            response.status_code,
            response.headers.get("Location", ""),
            response.text,
            sent,
            done,
        )

    with ThreadPoolExecutor(max_workers=len(emails)) as pool:
        return list(pool.map(reserve, emails))


def reserve_one_by_one(server: Server, slug: str, emails: list[str]) -> list[Answer]:
    """Register each email only after the server has answered the one before."""
    answers = []
    with requests.Session() as client:
        for email in emails:
            token = csrf_token(client.get(f"{server.url}/e/{slug}", timeout=TIMEOUT).text)
            sent = time.perf_counter()
            response = client.post(
                f"{server.url}/e/{slug}",
                data=form(email, token),
                allow_redirects=False,
                timeout=TIMEOUT,
            )
            done = time.perf_counter()
            location = response.headers.get("Location", "")
            answers.append(Answer(email, response.status_code, location, response.text, sent, done))
    return answers


def guests(count: int, prefix: str = "guest") -> list[str]:
    return [f"{prefix}{number:03d}@example.com" for number in range(count)]


def statuses(event: Event) -> dict[str, str]:
    db.session.rollback()  # end the test's own transaction: see what the server committed
    return dict(
        db.session.execute(
            select(Registration.email_normalized, Registration.status).where(
                Registration.event_id == event.id
            )
        ).all()
    )


def seats_taken(event: Event) -> int:
    db.session.rollback()
    return db.session.scalars(select(Event.seats_taken).where(Event.id == event.id)).one()


def lead_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Lead)) or 0


def waitlist_order(event: Event) -> list[str]:
    """The waitlist as the service promotes from it: by (created_at, id)."""
    db.session.rollback()
    return list(
        db.session.scalars(
            select(Registration.email_normalized)
            .where(Registration.event_id == event.id, Registration.status == "waitlisted")
            .order_by(Registration.created_at, Registration.id)
        )
    )


def no_server_errors(answers: list[Answer], server: Server) -> None:
    errors = [(a.email, a.status) for a in answers if a.status >= 500]
    assert not errors, f"server errors: {errors}\n{server.log()}"


def told_status(server: Server, answer: Answer) -> str:
    """The status a registrant's manage page shows them."""
    html = requests.get(server.url + answer.manage_path, timeout=TIMEOUT).text
    shown = {status for status in ("confirmed", "waitlisted") if f"status-{status}" in html}
    assert len(shown) == 1, html
    return shown.pop()


def cancel(server: Server, manage_path: str) -> None:
    with requests.Session() as client:
        page = client.get(f"{server.url}{manage_path}/cancel", timeout=TIMEOUT)
        response = client.post(
            f"{server.url}{manage_path}/cancel",
            data={"csrf_token": csrf_token(page.text), "confirm": "yes"},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
    assert response.status_code == 303, response.text


def test_a_crowd_gets_exactly_the_seats_there_are_and_the_rest_join_the_waitlist(app, server_for):
    event = make_event(capacity=SEATS, waitlist=True)
    server = server_for()

    answers = reserve_together(server, event.slug, guests(CROWD))

    no_server_errors(answers, server)
    assert Counter(a.status for a in answers) == {303: CROWD}
    assert Counter(statuses(event).values()) == {"confirmed": SEATS, "waitlisted": CROWD - SEATS}
    assert seats_taken(event) == SEATS
    assert lead_count() == CROWD
    # Every registrant's page tells them what the database holds for them.
    assert {a.email: told_status(server, a) for a in answers} == statuses(event)


def test_without_a_waitlist_the_crowd_beyond_capacity_is_refused_with_409(app, server_for):
    event = make_event(capacity=SEATS, waitlist=False)
    server = server_for()

    answers = reserve_together(server, event.slug, guests(CROWD))

    no_server_errors(answers, server)
    assert Counter(a.status for a in answers) == {303: SEATS, 409: CROWD - SEATS}
    assert all("This event is full." in a.body for a in answers if a.status == 409)
    confirmed = {a.email for a in answers if a.status == 303}
    assert statuses(event) == dict.fromkeys(confirmed, "confirmed")
    assert seats_taken(event) == SEATS
    # A refused registration leaves nothing behind, not even a lead.
    assert lead_count() == SEATS


def casings(email: str, count: int) -> list[str]:
    """`count` spellings of `email` that differ only in the case of their letters."""
    letters = [index for index, char in enumerate(email) if char.isalpha()]
    spellings = []
    for number in range(count):
        chars = list(email)
        for bit, index in enumerate(letters):
            if number >> bit & 1:
                chars[index] = chars[index].upper()
        spellings.append("".join(chars))
    return spellings


def test_the_same_email_sent_at_once_in_different_cases_registers_once(app, server_for):
    event = make_event(capacity=SEATS, waitlist=True)
    spellings = casings("ada.lovelace@example.com", 20)
    assert len(set(spellings)) == 20
    server = server_for()

    answers = reserve_together(server, event.slug, spellings)

    no_server_errors(answers, server)
    assert Counter(a.status for a in answers) == {303: 1, 200: 19}
    assert sum(a.created for a in answers) == 1
    assert all("we've emailed its link again" in a.body for a in answers if not a.created)
    assert statuses(event) == {"ada.lovelace@example.com": "confirmed"}
    assert lead_count() == 1
    # The losers of the race gave back the seat they had taken before the unique key stopped them.
    assert seats_taken(event) == 1


def test_freed_seats_go_to_the_waitlist_in_arrival_order(app, server_for):
    event = make_event(capacity=SEATS, waitlist=True)
    server = server_for()
    # Half the crowd: every registration is cancelled in turn below, one request at a time.
    crowd = reserve_together(server, event.slug, guests(CROWD // 2))
    latecomers = reserve_one_by_one(server, event.slug, guests(3, prefix="late"))
    answers = crowd + latecomers
    no_server_errors(answers, server)
    assert Counter(a.status for a in answers) == {303: len(answers)}

    # "Arrival order" of simultaneous requests is not observable from outside: they reach the
    # server in the same instant, and the server decides who came first by the order in which
    # their transactions take the event (the waitlist's created_at, then id). Nor is the order
    # in which answers come back the arrival order: a request served first can finish writing
    # its answer after one served later. What the outside can observe is "happened before":
    # when A's answer was complete before B was sent, A arrived first. So the waitlist must
    # agree with every such pair; the latecomers, each sent after every earlier answer, must
    # close the waitlist in the order they came.
    order = waitlist_order(event)
    place = {email: index for index, email in enumerate(order)}
    seated = {email for email, status in statuses(event).items() if status == "confirmed"}
    assert len(seated) == SEATS and len(order) == len(answers) - SEATS
    assert order[-3:] == [a.email for a in latecomers]
    for first in answers:
        for later in answers:
            if first.done < later.sent:
                assert first.email in seated or later.email not in seated
                if first.email in place and later.email in place:
                    assert place[first.email] < place[later.email], (first, later)

    # Cancel through the manage links, one at a time: each freed seat goes to the head of the
    # waitlist, until the whole waitlist has been seated in that order.
    links = {a.email: a.manage_path for a in answers}
    promoted = []
    to_cancel = sorted(seated)
    while to_cancel:
        cancel(server, links[to_cancel.pop(0)])
        now_seated = {email for email, status in statuses(event).items() if status == "confirmed"}
        newcomers = now_seated - seated
        assert len(newcomers) <= 1
        promoted.extend(newcomers)
        to_cancel.extend(newcomers)
        seated = now_seated
        assert seats_taken(event) == len(seated)
    assert promoted == order
    assert waitlist_order(event) == []


def test_the_crowd_catches_an_app_that_takes_seats_racily(app, server_for):
    # The control: the same crowd against tests/racy_app.py, which counts, commits, then inserts.
    event = make_event(capacity=SEATS, waitlist=True)
    server = server_for("tests.racy_app:app")

    answers = reserve_together(server, event.slug, guests(CROWD))

    no_server_errors(answers, server)
    confirmed = Counter(statuses(event).values())["confirmed"]
    assert confirmed > SEATS, "the racy app did not oversell: the crowd would miss a real race"
