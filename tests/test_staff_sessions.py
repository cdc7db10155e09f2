"""Console sessions live on the server: logging out, a new password, a deactivation or a long
idle spell ends them, and the same cookie replayed afterwards is a logged-out visitor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import select, update

from app.db import db, utcnow
from app.models import StaffSession
from tests.builders import counting_queries, csrf_token, form_token, log_in, make_user

CONSOLE = "/admin/events"


def _cookie(client) -> str:  # type: ignore[no-untyped-def]
    cookie = client.get_cookie("session")
    assert cookie is not None, "the client holds no session cookie"
    return cookie.value


def _replay(app, cookie: str):  # type: ignore[no-untyped-def]
    """A new browser carrying a copy of `cookie`, as someone who copied it would."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def _log_out(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/logout", data={"csrf_token": form_token(client, "/logout")})
    assert response.status_code == 303


def _logged_in(client) -> bool:  # type: ignore[no-untyped-def]
    answer = client.get(CONSOLE)
    assert answer.status_code in (200, 302), answer.status_code
    return answer.status_code == 200


def _sessions(user) -> list[StaffSession]:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(StaffSession).where(StaffSession.user_id == user.id).order_by(StaffSession.id)
        )
    )


def _edit_staff(client, user, **changes):  # type: ignore[no-untyped-def]
    """Post the console's staff form for `user` with `changes` over their current values."""
    path = f"/admin/settings/staff/{user.id}"
    data = {"name": user.name, "role": user.role, "active": "y" if user.active else ""}
    data.update(changes)
    if not data["active"]:
        del data["active"]
    return client.post(path, data={**data, "csrf_token": form_token(client, path)})


def test_a_cookie_replayed_after_logout_is_treated_as_logged_out(client, app):
    user = make_user("marketer")
    log_in(client, user)
    old_cookie = _cookie(client)
    assert _logged_in(_replay(app, old_cookie))  # a copy works while the session lives
    _log_out(client)
    assert not _logged_in(client)
    for replayed in (_replay(app, old_cookie), client):
        replayed.set_cookie("session", old_cookie)
        answer = replayed.get(CONSOLE)
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith("/login")
    (row,) = _sessions(user)
    assert row.ended_at is not None


def test_logging_out_ends_only_that_browsers_session(client, app):
    user = make_user("marketer")
    other_browser = app.test_client()
    log_in(client, user)
    log_in(other_browser, user)
    _log_out(client)
    assert not _logged_in(client)
    assert _logged_in(other_browser)
    assert [row.ended_at is None for row in _sessions(user)] == [False, True]


def test_the_cookie_holds_a_session_key_not_the_password_or_its_hash(client, app):
    user = make_user("marketer")
    log_in(client, user)
    with client.session_transaction() as session:
        key = session["staff_session"]
    (row,) = _sessions(user)
    assert key and row.key_hash != key and len(row.key_hash) == 64
    assert user.password_hash not in _cookie(client)


def test_a_session_key_logs_in_only_the_user_it_was_made_for(client, app):
    marketer = make_user("marketer")
    admin = make_user("admin")
    log_in(client, marketer)
    with client.session_transaction() as session:
        session["_user_id"] = str(admin.id)  # as a forged or mixed-up cookie would say
    assert client.get("/admin/settings").status_code == 302


def test_a_new_password_ends_every_other_session_of_that_user(client, app):
    marketer = make_user("marketer")
    laptop, phone = app.test_client(), app.test_client()
    log_in(laptop, marketer)
    log_in(phone, marketer)
    log_in(client, make_user("admin"))
    answer = _edit_staff(client, marketer, password="a-new-password-2026")
    assert answer.status_code == 303
    assert not _logged_in(laptop)
    assert not _logged_in(phone)
    assert all(row.ended_at is not None for row in _sessions(marketer))
    log_in(laptop, marketer, "a-new-password-2026")
    assert _logged_in(laptop)


def test_saving_a_staff_user_without_a_new_password_keeps_their_sessions(client, app):
    marketer = make_user("marketer")
    laptop = app.test_client()
    log_in(laptop, marketer)
    log_in(client, make_user("admin"))
    assert _edit_staff(client, marketer, name="Mia Marketer").status_code == 303
    assert _logged_in(laptop)


def test_an_admin_who_changes_their_own_password_stays_only_on_that_browser(client, app):
    admin = make_user("admin")
    make_user("admin")  # someone else stays admin either way
    other_browser = app.test_client()
    log_in(client, admin)
    log_in(other_browser, admin)
    old_cookie = _cookie(client)
    answer = _edit_staff(client, admin, password="my-new-password-1")
    assert answer.status_code == 303
    assert client.get(answer.headers["Location"]).status_code == 200
    assert _cookie(client) != old_cookie  # a fresh session, not the old one kept alive
    assert not _logged_in(other_browser)
    assert not _logged_in(_replay(app, old_cookie))


def test_deactivating_a_user_ends_their_sessions_for_good(client, app):
    marketer = make_user("marketer")
    laptop = app.test_client()
    log_in(laptop, marketer)
    log_in(client, make_user("admin"))
    assert _edit_staff(client, marketer, active="").status_code == 303
    assert not _logged_in(laptop)
    # Switched back on, the account needs a new login: the old cookie stays dead.
    db.session.refresh(marketer)
    assert _edit_staff(client, marketer, active="y").status_code == 303
    assert not _logged_in(laptop)
    assert all(row.ended_at is not None for row in _sessions(marketer))


def test_a_session_idle_longer_than_twelve_hours_ends(client, app):
    assert app.config["SESSION_IDLE_HOURS"] == 12
    user = make_user("marketer")
    log_in(client, user)
    old_cookie = _cookie(client)
    _seen(user, hours_ago=11.9)
    assert _logged_in(client)
    _seen(user, hours_ago=12.1)
    assert not _logged_in(client)
    (row,) = _sessions(user)
    assert row.ended_at is not None
    # Once ended, it stays ended, even if the cookie comes back within the idle time.
    db.session.execute(update(StaffSession).values(last_seen_at=utcnow()))
    db.session.commit()
    assert not _logged_in(_replay(app, old_cookie))


def test_using_a_session_keeps_it_alive(client, app):
    user = make_user("marketer")
    log_in(client, user)
    _seen(user, hours_ago=11)
    assert _logged_in(client)
    (row,) = _sessions(user)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)


def test_last_seen_is_written_at_most_about_once_a_minute(client, app):
    user = make_user("marketer")
    log_in(client, user)
    _seen(user, hours_ago=30 / 3600)
    (before,) = _sessions(user)
    seen = before.last_seen_at
    with counting_queries() as statements:
        assert _logged_in(client)
        assert _logged_in(client)
    assert not [sql for sql in statements if sql.lstrip().upper().startswith("UPDATE")]
    assert _sessions(user)[0].last_seen_at == seen
    _seen(user, hours_ago=2 / 60)
    assert _logged_in(client)
    assert utcnow() - _sessions(user)[0].last_seen_at < timedelta(seconds=30)


class TestShorterIdleTime:
    @pytest.fixture
    def app_config(self, app_config):  # type: ignore[no-untyped-def]
        return {**app_config, "SESSION_IDLE_HOURS": 0.5}

    def test_the_idle_time_follows_the_configuration(self, client, app):
        user = make_user("marketer")
        log_in(client, user)
        _seen(user, hours_ago=0.4)
        assert _logged_in(client)
        _seen(user, hours_ago=0.6)
        assert not _logged_in(client)


def test_the_idle_time_is_read_from_the_environment(app_config, monkeypatch):
    from app import create_app

    monkeypatch.setenv("SESSION_IDLE_HOURS", "3")
    assert create_app(app_config).config["SESSION_IDLE_HOURS"] == 3


def test_no_remember_me_cookie_is_set_nor_honoured(client, app):
    user = make_user("marketer")
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": "password123",
            "remember": "y",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 303
    assert "remember_token" not in " ".join(response.headers.getlist("Set-Cookie"))
    # A remember cookie signed the way Flask-Login signs one still logs nobody in.
    stranger = app.test_client()
    stranger.set_cookie("remember_token", encode_cookie(str(user.id)))
    assert not _logged_in(stranger)


def _seen(user, *, hours_ago: float) -> None:  # type: ignore[no-untyped-def]
    """Pretend the user's live sessions were last used `hours_ago`."""
    db.session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
        .values(last_seen_at=utcnow() - timedelta(hours=hours_ago))
    )
    db.session.commit()


def test_an_admin_logs_a_user_out_everywhere_from_their_staff_page(client, app):
    marketer = make_user("marketer")
    laptop, phone = app.test_client(), app.test_client()
    log_in(laptop, marketer)
    log_in(phone, marketer)
    log_in(client, make_user("admin"))
    path = f"/admin/settings/staff/{marketer.id}"
    assert "Logged in on 2 browsers" in client.get(path).text
    answer = client.post(f"{path}/sessions/end", data={"csrf_token": form_token(client, path)})
    assert answer.status_code == 303
    assert not _logged_in(laptop) and not _logged_in(phone)
    assert "Logged in on 0 browsers" in client.get(path).text


def test_an_admin_logging_out_their_other_browsers_stays_on_this_one(client, app):
    admin = make_user("admin")
    other_browser = app.test_client()
    log_in(client, admin)
    log_in(other_browser, admin)
    path = f"/admin/settings/staff/{admin.id}"
    answer = client.post(f"{path}/sessions/end", data={"csrf_token": form_token(client, path)})
    assert answer.status_code == 303
    assert "logged out of 1 other session" in client.get(answer.headers["Location"]).text
    assert not _logged_in(other_browser)
    assert _logged_in(client)


def test_the_worker_forgets_sessions_ended_more_than_thirty_days_ago(client, app):
    from app.worker import run_due_jobs

    user = make_user("marketer")
    for _ in range(3):
        log_in(app.test_client(), user)
    old, recent, live = _sessions(user)
    db.session.execute(
        update(StaffSession)
        .where(StaffSession.id == old.id)
        .values(ended_at=utcnow() - timedelta(days=31), last_seen_at=utcnow() - timedelta(days=31))
    )
    db.session.execute(
        update(StaffSession).where(StaffSession.id == recent.id).values(ended_at=utcnow())
    )
    db.session.commit()
    assert run_due_jobs()["staff_sessions"] == 1
    assert [row.id for row in _sessions(user)] == [recent.id, live.id]
