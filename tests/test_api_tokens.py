"""API tokens can be named, listed, made to expire and revoked (console and command line);
a revoked or expired token answers 401, and each token records when it was last used."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.auth.tokens import issue_token, revoke_token
from app.db import db, utcnow
from app.models import ApiToken
from tests.builders import form_token, log_in, make_user

STAFF_CALL = "/api/v1/leads"
TOKEN = re.compile(r"rsv_[A-Za-z0-9_-]{20,}")


def _call(client, token: str):  # type: ignore[no-untyped-def]
    return client.get(STAFF_CALL, headers={"Authorization": f"Bearer {token}"})


def _assert_refused(client, token: str) -> None:  # type: ignore[no-untyped-def]
    answer = _call(client, token)
    assert answer.status_code == 401
    assert answer.json["error"]["code"] == "unauthorized"
    assert set(answer.json["error"]) == {"code", "message", "fields"}


def _row(token_id: int) -> ApiToken:
    db.session.expire_all()
    row = db.session.get(ApiToken, token_id)
    assert row is not None
    return row


def test_a_revoked_token_answers_401_with_the_api_error_shape(client, app):
    row, secret = issue_token(make_user("marketer"), name="CRM sync")
    assert _call(client, secret).status_code == 200

    assert revoke_token(row)
    _assert_refused(client, secret)


def test_an_expired_token_answers_401(client, app):
    row, secret = issue_token(make_user("marketer"), expires_in_days=1)
    assert row.expires_at is not None
    assert timedelta(hours=23) < row.expires_at - utcnow() <= timedelta(days=1)
    assert _call(client, secret).status_code == 200
    db.session.execute(
        update(ApiToken)
        .values(expires_at=utcnow() - timedelta(seconds=1))
        .where(ApiToken.id == row.id)
    )
    db.session.commit()
    _assert_refused(client, secret)


def test_a_token_records_when_it_was_last_used_about_once_a_minute(client, app):
    row, secret = issue_token(make_user("rep"))
    assert row.last_used_at is None
    assert _call(client, secret).status_code == 200
    first = _row(row.id).last_used_at
    assert first is not None and utcnow() - first < timedelta(seconds=30)
    assert _call(client, secret).status_code == 200
    assert _row(row.id).last_used_at == first  # a second call within the minute writes nothing
    earlier = utcnow() - timedelta(minutes=2)
    db.session.execute(update(ApiToken).values(last_used_at=earlier).where(ApiToken.id == row.id))
    db.session.commit()
    assert _call(client, secret).status_code == 200
    assert _row(row.id).last_used_at > earlier + timedelta(minutes=1)


def test_a_refused_token_records_no_use(client, app):
    row, secret = issue_token(make_user("marketer"))

    revoke_token(row)
    _assert_refused(client, secret)
    assert _row(row.id).last_used_at is None


def test_deactivating_a_user_revokes_their_tokens(client, app):
    marketer = make_user("marketer")
    _row_, secret = issue_token(marketer)
    admin = make_user("admin")
    log_in(client, admin)
    path = f"/admin/settings/staff/{marketer.id}"
    answer = client.post(
        path,
        data={"name": marketer.name, "role": "marketer", "csrf_token": form_token(client, path)},
    )
    assert answer.status_code == 303
    _assert_refused(app.test_client(), secret)
    assert _row(_row_.id).revoked_at is not None  # so switching the user back on revives nothing


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": "x" * 121}, "name"),
        ({"name": "two\x00lines"}, "name"),
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": 10**20}, "expires_in_days"),
        ({"expires_in_days": True}, "expires_in_days"),
    ],
)
def test_a_bad_name_or_expiry_is_refused_naming_the_field(app, values, field):
    from app.auth.staff import StaffRejected

    with pytest.raises(StaffRejected) as refused:
        issue_token(make_user("marketer"), **values)
    assert set(refused.value.fields) == {field}
    assert db.session.scalar(select(ApiToken.id)) is None


# The command line


def test_tokens_create_prints_only_a_working_token(runner, client, app):
    user = make_user("marketer", email="mia@example.com")
    result = runner.invoke(args=["tokens", "create", "--email", "MIA@example.com"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert TOKEN.fullmatch(secret)
    assert _call(client, secret).status_code == 200
    (row,) = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id))
    assert row.name is None and row.expires_at is None


def test_tokens_create_takes_a_name_and_an_expiry(runner, app):
    make_user("marketer", email="mia@example.com")
    result = runner.invoke(
        args=[
            "tokens",
            "create",
            "--email",
            "mia@example.com",
            "--name",
            "Nightly export",
            "--expires-in-days",
            "30",
        ]
    )
    assert result.exit_code == 0, result.output
    row = db.session.scalar(select(ApiToken))
    assert row.name == "Nightly export"
    assert timedelta(days=29) < row.expires_at - utcnow() <= timedelta(days=30)


def test_tokens_create_refuses_a_bad_expiry_or_an_unknown_email(runner, app):
    make_user("marketer", email="mia@example.com")
    bad_days = runner.invoke(
        args=["tokens", "create", "--email", "mia@example.com", "--expires-in-days", "0"]
    )
    assert bad_days.exit_code != 0
    assert "--expires-in-days" in bad_days.output
    unknown = runner.invoke(args=["tokens", "create", "--email", "nobody@example.com"])
    assert unknown.exit_code != 0
    assert "no staff user" in unknown.output
    assert db.session.scalar(select(ApiToken.id)) is None


def test_tokens_list_shows_each_token_without_the_secret(runner, client, app):
    user = make_user("marketer", email="mia@example.com")
    used, used_secret = issue_token(user, name="CRM sync")
    revoked, revoked_secret = issue_token(user, name="Old laptop")
    _call(client, used_secret)

    revoke_token(revoked)
    issue_token(make_user("rep", email="rita@example.com"), name="Rita's script")
    result = runner.invoke(args=["tokens", "list", "--email", "mia@example.com"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()[1:]}
    assert set(lines) == {str(used.id), str(revoked.id)}
    assert "active" in lines[str(used.id)] and "CRM sync" in lines[str(used.id)]
    assert "revoked" in lines[str(revoked.id)]
    assert "Rita" not in result.output
    assert used_secret not in result.output and revoked_secret not in result.output


def test_tokens_revoke_by_email_revokes_every_token_of_that_user(runner, client, app):
    mia = make_user("marketer", email="mia@example.com")
    secrets = [issue_token(mia)[1] for _ in range(2)]
    _row_, rita_secret = issue_token(make_user("rep", email="rita@example.com"))
    result = runner.invoke(args=["tokens", "revoke", "--email", "mia@example.com"])
    assert result.exit_code == 0, result.output
    assert "revoked 2 tokens of mia@example.com" in result.output
    for secret in secrets:
        _assert_refused(client, secret)
    assert _call(client, rita_secret).status_code == 200


def test_tokens_revoke_by_id_revokes_that_one_token(runner, client, app):
    mia = make_user("marketer", email="mia@example.com")
    first, first_secret = issue_token(mia)
    _second, second_secret = issue_token(mia)
    result = runner.invoke(args=["tokens", "revoke", "--id", str(first.id)])
    assert result.exit_code == 0, result.output
    _assert_refused(client, first_secret)
    assert _call(client, second_secret).status_code == 200
    again = runner.invoke(args=["tokens", "revoke", "--id", str(first.id)])
    assert "already revoked" in again.output


def test_tokens_revoke_needs_exactly_one_of_email_and_id(runner, app):
    make_user("marketer", email="mia@example.com")
    assert runner.invoke(args=["tokens", "revoke"]).exit_code == 2
    both = runner.invoke(args=["tokens", "revoke", "--email", "mia@example.com", "--id", "1"])
    assert both.exit_code == 2
    missing = runner.invoke(args=["tokens", "revoke", "--id", "999"])
    assert missing.exit_code == 1 and "no API token" in missing.output


# The console


def _create_in_console(client, **data):  # type: ignore[no-untyped-def]
    return client.post(
        "/admin/tokens", data={**data, "csrf_token": form_token(client, "/admin/tokens")}
    )


def _revoke_in_console(client, token_id: int):  # type: ignore[no-untyped-def]
    return client.post(
        f"/admin/tokens/{token_id}/revoke",
        data={"csrf_token": form_token(client, "/admin/tokens")},
    )


def test_the_console_links_to_the_tokens_page_for_every_role(app):
    for role in ("admin", "marketer", "rep"):
        client = app.test_client()
        log_in(client, make_user(role))
        home = client.get("/admin/tokens")
        assert home.status_code == 200
        assert 'href="/admin/tokens" aria-current="page">API tokens</a>' in home.text


def test_a_token_made_in_the_console_is_shown_once_and_works(client, app):
    rep = make_user("rep")
    log_in(client, rep)
    answer = _create_in_console(client, name="My CRM", expires_in_days="90")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    (secret,) = set(TOKEN.findall(answer.text))
    assert _call(app.test_client(), secret).status_code == 200
    row = db.session.scalar(select(ApiToken))
    assert row.user_id == rep.id and row.name == "My CRM"
    later = client.get("/admin/tokens").text
    assert "My CRM" in later
    assert secret not in later and not TOKEN.search(later)


def test_a_bad_expiry_in_the_console_is_refused_next_to_its_field(client, app):
    log_in(client, make_user("marketer"))
    answer = _create_in_console(client, expires_in_days="99999999999999999999999")
    assert answer.status_code == 422
    assert 'id="expires_in_days-error"' in answer.text
    assert db.session.scalar(select(ApiToken.id)) is None


def test_a_rep_sees_and_revokes_only_their_own_tokens(client, app):
    rep = make_user("rep")
    mine, my_secret = issue_token(rep, name="Rep script")
    theirs, their_secret = issue_token(make_user("marketer", email="mia@example.com"), name="Mia")
    log_in(client, rep)
    page = client.get("/admin/tokens").text
    assert "Rep script" in page
    assert "Mia" not in page and "mia@example.com" not in page
    refused = _revoke_in_console(client, theirs.id)
    assert refused.status_code == 404
    assert _call(app.test_client(), their_secret).status_code == 200
    assert _revoke_in_console(client, mine.id).status_code == 303
    _assert_refused(app.test_client(), my_secret)


def test_an_admin_sees_and_revokes_everyones_tokens(client, app):
    marketer = make_user("marketer", email="mia@example.com")
    row, secret = issue_token(marketer, name="Mia's export")
    log_in(client, make_user("admin"))
    page = client.get("/admin/tokens").text
    assert "Mia&#39;s export" in page and "mia@example.com" in page
    answer = _revoke_in_console(client, row.id)
    assert answer.status_code == 303
    assert "mia@example.com" in client.get(answer.headers["Location"]).text
    _assert_refused(app.test_client(), secret)
    assert _row(row.id).revoked_at is not None


def test_an_admin_revokes_all_of_a_users_tokens_from_their_staff_page(client, app):
    rep = make_user("rep")
    secrets = [issue_token(rep)[1] for _ in range(2)]
    log_in(client, make_user("admin"))
    path = f"/admin/settings/staff/{rep.id}"
    assert "2 working API tokens" in client.get(path).text
    answer = client.post(f"{path}/tokens/revoke", data={"csrf_token": form_token(client, path)})
    assert answer.status_code == 303
    assert "0 working API tokens" in client.get(path).text
    for secret in secrets:
        _assert_refused(app.test_client(), secret)
