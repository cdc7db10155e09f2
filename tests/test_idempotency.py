"""`Idempotency-Key` on `POST /api/v1/events/<slug>/registrations`: a retry with the same key
and body gets the first answer again (manage link included, `Idempotent-Replayed: true`),
another body is refused naming the key, keys are each caller's own and expire, an erased
person's answers go, and a registration committed before its answer was lost is answered as
the first attempt should have been, without the Trust rule giving a link to anyone else."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import exc, func, select, update

from app.api.idempotency import IdempotencyKey
from app.db import db, utcnow
from app.registrations.links import manage_url
from app.registrations.models import Registration
from app.worker import run_due_jobs
from tests.builders import bearer, make_user

REGISTER = "/api/v1/events/launch-webinar/registrations"
ADA = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}
GRACE = {"email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper"}


def keyed(key: str, **headers: str) -> dict[str, str]:
    return {"Idempotency-Key": key, **headers}


def registrations() -> int:
    return db.session.scalar(select(func.count()).select_from(Registration)) or 0


def kept_keys() -> list[IdempotencyKey]:
    db.session.expire_all()
    return list(db.session.scalars(select(IdempotencyKey).order_by(IdempotencyKey.id)))


def test_the_same_key_and_body_gets_the_first_answer_again_manage_link_included(client, event):
    first = client.post(REGISTER, json=ADA, headers=keyed("order-1"))
    assert first.status_code == 201, first.json
    assert first.json["manage_url"] == manage_url(db.session.get(Registration, first.json["id"]))
    assert "Idempotent-Replayed" not in first.headers

    again = client.post(REGISTER, json=ADA, headers=keyed("order-1"))

    assert again.status_code == 201
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert registrations() == 1
    # The same body written another way is the same request.
    reordered = {"last_name": "Lovelace", "first_name": "Ada", "email": "ada@example.com"}
    assert client.post(REGISTER, json=reordered, headers=keyed("order-1")).json == first.json


def test_without_a_key_an_anonymous_retry_is_not_given_the_manage_link(client, event):
    first = client.post(REGISTER, json=ADA, headers=keyed("order-1"))

    retry = client.post(REGISTER, json=ADA)

    assert retry.status_code == 200
    assert retry.json["id"] == first.json["id"]
    assert retry.json["manage_url"] is None
    assert "Idempotent-Replayed" not in retry.headers


def test_a_manager_retrying_without_a_key_gets_the_existing_registration_with_its_link(
    client, event
):
    headers = bearer(make_user("marketer"))
    first = client.post(REGISTER, json=ADA, headers=headers)

    retry = client.post(REGISTER, json=ADA, headers=headers)

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json["id"] == first.json["id"]
    assert retry.json["manage_url"] == first.json["manage_url"] is not None


def test_the_same_key_with_another_body_is_refused_naming_the_key(client, event):
    client.post(REGISTER, json=ADA, headers=keyed("order-1"))

    other = client.post(REGISTER, json=GRACE, headers=keyed("order-1"))

    assert other.status_code == 422
    assert set(other.json["error"]["fields"]) == {"Idempotency-Key"}
    assert "different request" in other.json["error"]["message"]
    assert registrations() == 1
    # The same key on another event is another request too.
    assert (
        client.post(
            "/api/v1/events/elsewhere/registrations", json=ADA, headers=keyed("order-1")
        ).status_code
        == 422
    )


def test_a_key_whose_first_request_is_still_running_answers_409(client, event):
    client.post(REGISTER, json=ADA, headers=keyed("order-1"))
    # As while the first attempt is still being carried out.
    db.session.execute(
        update(IdempotencyKey).values(status_code=None, response_body=None, claimed_at=utcnow())
    )
    db.session.commit()

    busy = client.post(REGISTER, json=ADA, headers=keyed("order-1"))

    assert busy.status_code == 409
    assert busy.headers["Retry-After"] == "1"
    assert set(busy.json["error"]["fields"]) == {"Idempotency-Key"}


def test_keys_are_each_callers_own(client, event):
    marketer = bearer(make_user("marketer"))
    mine = client.post(REGISTER, json=ADA, headers=keyed("order-1", **marketer))
    assert mine.status_code == 201

    # Anyone else's same key is a request of their own: no replay, and no manage link for an
    # address someone else registered.
    theirs = client.post(REGISTER, json=ADA, headers=keyed("order-1"))
    assert theirs.status_code == 200
    assert theirs.json["manage_url"] is None
    assert "Idempotent-Replayed" not in theirs.headers
    other_body = client.post(
        REGISTER, json=GRACE, headers=keyed("order-1", **bearer(make_user("rep")))
    )
    assert other_body.status_code == 201

    again = client.post(REGISTER, json=ADA, headers=keyed("order-1", **marketer))
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == mine.json
    assert [row.caller.split(":")[0] for row in kept_keys()] == ["user", "address", "user"]


def test_an_expired_key_is_a_new_request_and_the_worker_sweeps_old_keys(app, client, event):
    first = client.post(REGISTER, json=ADA, headers=keyed("order-1"))
    hours = app.config["IDEMPOTENCY_KEY_HOURS"]
    assert hours == 24
    db.session.execute(
        update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=hours, minutes=1))
    )
    db.session.commit()

    later = client.post(REGISTER, json=ADA, headers=keyed("order-1"))

    # Not replayed: carried out again, and the address is already registered.
    assert later.status_code == 200
    assert later.json["id"] == first.json["id"]
    assert later.json["manage_url"] is None
    assert "Idempotent-Replayed" not in later.headers
    (row,) = kept_keys()
    assert row.status_code == 200

    client.post(REGISTER, json=GRACE, headers=keyed("order-2"))
    db.session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.key == "order-1")
        .values(created_at=utcnow() - timedelta(hours=hours + 1))
    )
    db.session.commit()
    assert run_due_jobs()["idempotency_keys"] == 1
    assert [row.key for row in kept_keys()] == ["order-2"]


def test_a_refused_request_keeps_nothing_under_its_key(client, event):
    refused = client.post(REGISTER, json={**ADA, "email": "not an email"}, headers=keyed("k"))
    assert refused.status_code == 422

    fixed = client.post(REGISTER, json=ADA, headers=keyed("k"))

    assert fixed.status_code == 201
    assert client.post(REGISTER, json={}, headers=keyed("x" * 256)).json["error"]["fields"] == {
        "Idempotency-Key": "Use 1 to 255 visible ASCII characters (a UUID is a good key)."
    }


def test_erasing_a_person_erases_their_kept_answers(client, event):
    admin = bearer(make_user("admin"))
    ada = client.post(REGISTER, json=ADA, headers=keyed("order-1"))
    client.post(REGISTER, json=GRACE, headers=keyed("order-2"))
    assert len(kept_keys()) == 2

    erased = client.post("/api/v1/people/ada@example.com/erase", headers=admin)

    assert erased.status_code == 200, erased.text
    assert [row.key for row in kept_keys()] == ["order-2"]
    dump = " ".join(str(row.response_body) for row in kept_keys())
    assert ada.json["manage_url"] not in dump


@contextmanager
def database_fails_while_keeping_the_answer() -> Iterator[list[str]]:
    """The database drops the connection at the instant the answer is written under its key:
    after the registration's commit, before the client has its answer."""
    engine = db.engine
    failed: list[str] = []

    def drop(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if not failed and statement.startswith("UPDATE idempotency_keys SET status_code"):
            failed.append(statement)
            raise exc.OperationalError(
                statement, {}, ConnectionError("server closed the connection")
            )

    sa_event.listen(engine, "before_cursor_execute", drop)
    try:
        yield failed
    finally:
        sa_event.remove(engine, "before_cursor_execute", drop)


def test_a_registration_committed_before_its_answer_was_lost_is_answered_on_retry(client, event):
    with database_fails_while_keeping_the_answer() as failed:
        lost = client.post(REGISTER, json=ADA, headers=keyed("order-1"))
    assert failed
    assert lost.status_code == 503
    assert int(lost.headers["Retry-After"]) > 0
    assert registrations() == 1

    # Without the key, a public caller is only told the address is registered.
    bare = client.post(REGISTER, json=ADA)
    assert (bare.status_code, bare.json["manage_url"]) == (200, None)

    retry = client.post(REGISTER, json=ADA, headers=keyed("order-1"))

    registration = db.session.scalars(select(Registration)).one()
    assert retry.status_code == 201, retry.json
    assert retry.json["id"] == registration.id
    assert retry.json["manage_url"] == manage_url(registration)
    again = client.post(REGISTER, json=ADA, headers=keyed("order-1"))
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == retry.json
    assert registrations() == 1
