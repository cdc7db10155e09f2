"""`Idempotency-Key` on the registration call: an integration that lost an answer (a timeout,
a 503 while the database restarted) retries with the same key and gets the original answer,
status and body, once and for all, instead of a second registration or a stripped-down one.

As Stripe and pretix do: keys are kept `IDEMPOTENCY_KEY_HOURS` (24) and scoped per caller (the
staff user a token acts as; without a token, the client's address). The same key with another
body is refused (422), and with the first request still running too (409). Only an answer the
call gave (201 or 200) is kept: a refusal changed nothing, so its retry is simply carried out
again. When the first attempt committed a registration and then failed before it could keep its
answer, the key remembers the registration (written in the registration's own transaction), so
the retry answers as the first attempt would have: 201 with that registration.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from flask import Flask, Response, current_app, has_request_context, request
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from app.api import auth
from app.api.errors import fail
from app.db import Model, UTCDateTime, db, insert_ignoring_conflict, rows_changed, utcnow, writing
from app.outage import is_outage
from app.privacy.registry import Person
from app.registrations import signals
from app.registrations.models import Registration

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
# Visible ASCII, as Stripe takes: a UUID or any token of the integration's own.
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_KEY = re.compile(KEY_PATTERN)
# A first attempt that has not finished in this long died with its process: its key may be
# taken over by the retry.
ABANDONED_AFTER = timedelta(seconds=60)
_CLAIM = "reserve.idempotency_claim"


class IdempotencyKey(Model):
    """One caller's key and the answer it was given; the request itself is kept as a hash."""

    __tablename__ = "idempotency_keys"
    # One answer per key and caller: two attempts racing for a key cannot both run.
    __table_args__ = (UniqueConstraint("caller", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "user:<id>" for a token's user, "address:<ip>" without a token.
    caller: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the call's path and its JSON body: the same key must come with the same request.
    request_hash: Mapped[str] = mapped_column(String(64))
    # The registration the first attempt made or answered with (set in its own transaction).
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    # The answer as sent; both null while the first attempt runs.
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # When an attempt started working on the key; null once it finished or gave it up.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Claim:
    id: int
    # The registration an earlier attempt under this key committed without keeping its answer.
    earlier_registration_id: int | None = None


def init_app(app: Flask) -> None:
    """Expire old keys in the worker, erase a person's answers with the rest of their data, and
    tie each registration to the key it was made under, in its own transaction."""
    from app.privacy.registry import add_eraser
    from app.worker import add_job

    add_job(app, "idempotency_keys", expire_keys)
    add_eraser(app, "idempotency_keys", erase_answers_of)
    signals.registered.connect(_remember_registration, weak=False)


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Honour `Idempotency-Key` on `view` (put below `allow`: the caller is known first)."""

    @wraps(view)
    def keyed(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not _KEY.match(key):
            fail(
                422,
                f"`{HEADER}` must be 1 to 255 visible ASCII characters, such as a UUID.",
                {HEADER: "Use 1 to 255 visible ASCII characters (a UUID is a good key)."},
            )
        claimed = _claim(_caller(), key, _request_hash(), utcnow())
        if isinstance(claimed, Response):
            return claimed
        request.environ[_CLAIM] = claimed
        try:
            response = view(*args, **kwargs)
            _keep(claimed, response)
        except BaseException as error:
            _release(claimed, error)
            raise
        return response

    return keyed


def earlier_registration() -> Registration | None:
    """The registration this request's key already made, when the first attempt committed it
    but its answer was lost: the view answers with it as the first attempt would have."""
    claim: Claim | None = request.environ.get(_CLAIM)
    if claim is None or claim.earlier_registration_id is None:
        return None
    return db.session.get(Registration, claim.earlier_registration_id)


def _caller() -> str:
    user = auth.caller()
    if user is not None:
        return f"user:{user.id}"
    return f"address:{request.remote_addr or 'unknown'}"


def _request_hash() -> str:
    body = request.get_json(silent=True)
    if body is None:
        # Not JSON: the schema refuses it; the bytes still tell one request from another.
        content: Any = request.get_data(cache=True).hex()
    else:
        content = body
    canonical = json.dumps(
        {"path": request.path, "body": content}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _claim(caller: str, key: str, digest: str, now: datetime) -> Claim | Response:
    """Take the key for this attempt, or the answer it already has; 422 or 409 when it is
    another request's."""
    with writing():
        if insert_ignoring_conflict(
            IdempotencyKey,
            ["caller", "key"],
            caller=caller,
            key=key,
            request_hash=digest,
            created_at=now,
            claimed_at=now,
        ):
            return Claim(_key_id(caller, key))
        row = db.session.scalars(
            select(IdempotencyKey)
            .where(IdempotencyKey.caller == caller, IdempotencyKey.key == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        if row.created_at <= now - _lifetime():
            # Expired: the key starts afresh, as if it had never been used.
            row.request_hash, row.created_at, row.claimed_at = digest, now, now
            row.registration_id = row.status_code = row.response_body = None
            return Claim(row.id)
        if row.request_hash != digest:
            fail(
                422,
                f"This `{HEADER}` was already used with a different request; send a new key "
                "for a new registration, or the same body to get the first answer again.",
                {HEADER: "Already used with a different request body."},
            )
        if row.status_code is not None:
            return _replay(row)
        if row.claimed_at is not None and row.claimed_at > now - ABANDONED_AFTER:
            fail(
                409,
                f"A request with this `{HEADER}` is still being carried out; try again in a "
                "moment to get its answer.",
                {HEADER: "The first request with this key has not finished yet."},
                **{"Retry-After": "1"},
            )
        # The first attempt gave up (an outage) or died: this one carries the key on.
        row.claimed_at = now
        return Claim(row.id, row.registration_id)


def _key_id(caller: str, key: str) -> int:
    found = db.session.scalar(
        select(IdempotencyKey.id).where(IdempotencyKey.caller == caller, IdempotencyKey.key == key)
    )
    assert found is not None
    return found


def _replay(row: IdempotencyKey) -> Response:
    response = Response(row.response_body, status=row.status_code, mimetype="application/json")
    response.headers[REPLAYED] = "true"
    return response


def _keep(claim: Claim, response: Response) -> None:
    """Keep the answer under the key; an answer that is not a success keeps nothing."""
    if not 200 <= response.status_code < 300:
        _release(claim, None)
        return
    body = response.get_data(as_text=True)
    registration_id = json.loads(body).get("id")
    with writing():
        row = db.session.get(IdempotencyKey, claim.id, populate_existing=True)
        if row is None:  # erased meanwhile with the person it named
            return
        row.status_code = response.status_code
        row.response_body = body
        row.registration_id = registration_id
        row.claimed_at = None


def _release(claim: Claim, error: BaseException | None) -> None:
    """Give the key up after an attempt that answered nothing worth keeping.

    Deleted, unless the attempt had already committed a registration under it (it then failed
    before keeping its answer): that is remembered, so the retry answers with it.
    """
    try:
        db.session.rollback()
        with writing():
            row = db.session.get(IdempotencyKey, claim.id, populate_existing=True)
            if row is None:
                return
            if row.registration_id is None:
                db.session.delete(row)
            else:
                row.claimed_at = None
    except Exception as failure:
        if not is_outage(failure):
            raise
        # The database is still away: the key waits ABANDONED_AFTER, then a retry takes it.
        log.warning("could not release an idempotency key (%s)", type(failure).__name__)
        if error is None:
            raise


def _remember_registration(registration: Registration, **_: Any) -> None:
    # In the registration's transaction: the key and the registration commit together.
    if not has_request_context():
        return
    claim: Claim | None = request.environ.get(_CLAIM)
    if claim is None:
        return
    row = db.session.get(IdempotencyKey, claim.id)
    if row is not None:
        row.registration_id = registration.id
        db.session.flush()


def _lifetime() -> timedelta:
    return timedelta(hours=current_app.config["IDEMPOTENCY_KEY_HOURS"])


def expire_keys(now: datetime) -> int:
    """The worker's job: keys older than their lifetime go (a read of one expires it too)."""
    with writing():
        return rows_changed(
            delete(IdempotencyKey).where(IdempotencyKey.created_at <= now - _lifetime())
        )


def erase_answers_of(person: Person, _now: datetime) -> int:
    """Privacy's eraser: the kept answers about the person's registrations (their ids and
    manage links) go with them."""
    if not person.registration_ids:
        return 0
    return rows_changed(
        delete(IdempotencyKey)
        .where(IdempotencyKey.registration_id.in_(person.registration_ids))
        .execution_options(synchronize_session=False)
    )
