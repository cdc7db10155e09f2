"""Set-your-password links: the invitation a new member of staff is emailed and the "forgot
password" link. Each works once, expires, is stored only as a digest, goes out through the
outbox, and using it ends the account's other sessions; "forgot password" answers the same
whether or not an address has an account, and is rate limited like the login."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from app.auth import passwords
from app.db import db, utcnow
from app.mail.models import OutboxMessage
from app.models import PasswordToken, User
from tests.builders import csrf_token, log_in, make_user

LINK = re.compile(r"https?://[^/\s]+/password/set/([A-Za-z0-9_-]+)")


def letters(kind: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


def link_in(row: OutboxMessage) -> str:
    """The set-your-password path in a queued letter's text."""
    message = message_from_bytes(row.content or b"", policy=policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    match = LINK.search(text)
    assert match, text
    return f"/password/set/{match.group(1)}"


def ask_for_reset(client, email: str):  # type: ignore[no-untyped-def]
    page = client.get("/password/forgot")
    return client.post(
        "/password/forgot", data={"csrf_token": csrf_token(page.text), "email": email}
    )


def set_password(client, path: str, password: str, confirm: str | None = None):  # type: ignore[no-untyped-def]
    page = client.get(path)
    assert page.status_code == 200, page.text
    return client.post(
        path,
        data={
            "csrf_token": csrf_token(page.text),
            "password": password,
            "confirm": confirm if confirm is not None else password,
        },
    )


def reset_path(client, user: User) -> str:  # type: ignore[no-untyped-def]
    assert ask_for_reset(client, user.email).status_code == 200
    return link_in(letters(passwords.RESET)[-1])


# Invitations


def add_staff_in_the_console(client, **changes: str):  # type: ignore[no-untyped-def]
    """An admin adds Nia as a marketer without a password (`invite="y"` ticks the box)."""
    log_in(client, make_user("admin"))
    page = client.get("/admin/settings/staff/new")
    data = {"name": "Nia New", "email": "nia@example.com", "role": "marketer", "password": ""}
    return client.post(
        "/admin/settings/staff/new", data={"csrf_token": csrf_token(page.text), **data, **changes}
    )


def test_a_new_member_of_staff_is_invited_and_sets_their_own_password(client, app):
    response = add_staff_in_the_console(client, invite="y")
    assert response.status_code == 303
    (letter,) = letters(passwords.INVITATION)
    assert letter.recipient == "nia@example.com" and letter.status == "pending"
    assert "invited" in letter.subject
    path = link_in(letter)

    newcomer = app.test_client()
    answer = set_password(newcomer, path, "my own secret")
    assert answer.status_code == 303
    assert newcomer.get("/admin/events").status_code == 200  # logged in by setting it
    nia = db.session.scalar(select(User).where(User.email == "nia@example.com"))
    db.session.refresh(nia)
    assert nia.check_password("my own secret")
    # Used once, it is spent.
    assert app.test_client().get(path).status_code == 410


def test_without_an_invitation_the_first_password_is_still_required(client, app):
    response = add_staff_in_the_console(client)
    assert response.status_code == 422
    assert letters(passwords.INVITATION) == []


def test_an_invitation_expires_after_its_hours(app, client):
    user = make_user("rep")
    passwords.queue_invitation(user)
    db.session.commit()
    secret = link_in(letters(passwords.INVITATION)[0]).rsplit("/", 1)[1]
    row = db.session.scalars(select(PasswordToken)).one()
    assert row.expires_at - row.created_at == timedelta(hours=24)
    later = row.created_at + timedelta(hours=24, seconds=1)
    assert passwords.user_for_link(secret, now=later) is None
    with pytest.raises(passwords.LinkNotValid):
        passwords.set_password_with_link(secret, "long enough", now=later)
    assert passwords.user_for_link(secret, now=row.created_at + timedelta(hours=23)) == user


def test_only_a_digest_of_the_link_is_stored(app, client):
    user = make_user("rep")
    secret = reset_path(client, user).rsplit("/", 1)[1]
    row = db.session.scalars(select(PasswordToken)).one()
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.purpose == "reset" and row.user_id == user.id


# Forgot password


def test_forgot_password_answers_the_same_for_a_known_and_an_unknown_address(client, app):
    make_user("marketer", email="mia@example.com")
    known = ask_for_reset(client, "MIA@example.com")
    unknown = ask_for_reset(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    assert "Check your email" in known.text
    (letter,) = letters(passwords.RESET)
    assert letter.recipient == "mia@example.com"


def test_a_deactivated_account_gets_no_link_and_its_links_stop_working(client, app):
    user = make_user("marketer", email="mia@example.com")
    path = reset_path(client, user)
    user.active = False
    db.session.commit()
    assert client.get(path).status_code == 410
    assert ask_for_reset(client, "mia@example.com").status_code == 200
    assert len(letters(passwords.RESET)) == 1


def test_a_reset_link_works_once_and_for_an_hour(client, app):
    user = make_user("marketer", email="mia@example.com")
    path = reset_path(client, user)
    row = db.session.scalars(select(PasswordToken)).one()
    assert row.expires_at - row.created_at == timedelta(hours=1)
    assert set_password(client, path, "brand new secret").status_code == 303
    again = client.get(path)
    assert again.status_code == 410 and "no longer works" in again.text
    db.session.refresh(user)
    assert user.check_password("brand new secret")

    second = reset_path(app.test_client(), user).rsplit("/", 1)[1]
    late = utcnow() + timedelta(hours=1, seconds=1)
    with pytest.raises(passwords.LinkNotValid):
        passwords.set_password_with_link(second, "another secret", now=late)
    db.session.refresh(user)
    assert user.check_password("brand new secret")


def test_using_one_link_spends_every_open_link_of_the_account(client, app):
    user = make_user("marketer", email="mia@example.com")
    first = reset_path(client, user)
    second = reset_path(client, user)
    assert set_password(client, second, "brand new secret").status_code == 303
    assert app.test_client().get(first).status_code == 410


def test_a_too_short_password_is_refused_and_the_link_still_works(client, app):
    user = make_user("marketer", email="mia@example.com")
    path = reset_path(client, user)
    short = set_password(client, path, "short")
    assert short.status_code == 422 and "at least 8 characters" in short.text
    differ = set_password(client, path, "long enough", "long enougH")
    assert differ.status_code == 422 and "The two passwords differ" in differ.text
    assert set_password(client, path, "long enough").status_code == 303


def test_setting_a_password_ends_the_accounts_other_sessions(client, app):
    user = make_user("marketer", email="mia@example.com")
    elsewhere = app.test_client()
    log_in(elsewhere, user)
    assert elsewhere.get("/admin/events").status_code == 200
    path = reset_path(client, user)
    assert set_password(client, path, "brand new secret").status_code == 303
    assert elsewhere.get("/admin/events").status_code == 302  # back to the login page
    assert client.get("/admin/events").status_code == 200  # the browser that set it


def test_an_unknown_or_mangled_link_is_410(client, app):
    assert client.get("/password/set/not-a-real-link").status_code == 410
    assert client.get("/password/set/" + "x" * 500).status_code == 410


def test_the_login_page_offers_forgot_password(client, app):
    assert 'href="/password/forgot"' in client.get("/login").text


class TestRateLimit:
    @pytest.fixture
    def app_config(self, app_config):  # type: ignore[no-untyped-def]
        return {**app_config, "RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}

    def test_forgot_password_is_limited_per_address_like_the_login(self, client, app):
        codes = [ask_for_reset(client, f"who{n}@example.com").status_code for n in range(4)]
        assert codes == [200, 200, 200, 429]

    def test_forgot_password_is_limited_per_email_across_addresses(self, client, app):
        make_user("marketer", email="mia@example.com")
        codes = []
        for n in range(4):
            page = client.get("/password/forgot")
            codes.append(
                client.post(
                    "/password/forgot",
                    data={"csrf_token": csrf_token(page.text), "email": "MIA@example.com"},
                    environ_base={"REMOTE_ADDR": f"10.0.0.{n + 1}"},
                ).status_code
            )
        assert codes == [200, 200, 200, 429]
        assert len(letters(passwords.RESET)) == 3
