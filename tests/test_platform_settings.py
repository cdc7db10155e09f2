"""The console's "Webinar platforms" settings: only admins; a saved secret is never shown again
(blank keeps it, "remove" clears it); console values win over configuration; GoTo's "Test
connection" and its "Connect GoTo" OAuth flow, against the local fake GoTo."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from app.admin.platform_forms import GoToForm, ZoomForm
from app.db import db
from app.models import Setting
from app.platforms.credentials import (
    GOTO_KEYS,
    ZOOM_KEYS,
    goto_credentials,
    setting,
    zoom_credentials,
)
from tests.builders import csrf_token, form_token, log_in, make_user
from tests.fake_goto import CLIENT_ID, CLIENT_SECRET, ORGANIZER_KEY, REFRESH_TOKEN

PAGE = "/admin/settings/platforms"
CALLBACK = "http://testserver/admin/settings/platforms/goto/callback"
PLATFORM_KEYS = (
    "ZOOM_ACCOUNT_ID",
    "ZOOM_CLIENT_ID",
    "ZOOM_CLIENT_SECRET",
    "ZOOM_WEBHOOK_SECRET_TOKEN",
    "GOTO_CLIENT_ID",
    "GOTO_CLIENT_SECRET",
    "GOTO_ORGANIZER_KEY",
    "GOTO_REFRESH_TOKEN",
)
LONG_SECRET = "zoom-secret-0123456789-wxyz"


@pytest.fixture
def app_config(app_config, fake_goto):  # type: ignore[no-untyped-def]
    # Nothing from the shell's environment: each test configures what it needs.
    return {
        **app_config,
        **dict.fromkeys(PLATFORM_KEYS),
        "GOTO_OAUTH_BASE": fake_goto.url,
        "GOTO_API_BASE": fake_goto.api_base,
    }


@pytest.fixture
def admin(client, app):  # type: ignore[no-untyped-def]
    user = make_user("admin", email="root@example.com")
    log_in(client, user)
    return client


def _save(client, platform: str, **values: str):  # type: ignore[no-untyped-def]
    token = form_token(client, PAGE)
    data = {f"{platform}-{name}": value for name, value in values.items()}
    return client.post(f"{PAGE}/{platform}", data={f"{platform}-csrf_token": token, **data})


def _press(client, action: str):  # type: ignore[no-untyped-def]
    return client.post(f"{PAGE}/goto/{action}", data={"csrf_token": form_token(client, PAGE)})


def _goto_client(client) -> None:  # type: ignore[no-untyped-def]
    response = _save(client, "goto", client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    assert response.status_code == 303, response.text


def test_each_console_field_saves_one_platform_credential():
    assert set(ZoomForm.KEYS.values()) == set(ZOOM_KEYS)
    assert set(GoToForm.KEYS.values()) == set(GOTO_KEYS)


def test_only_admins_reach_the_platform_settings(client, app):
    for role in ("marketer", "rep"):
        other = app.test_client()
        log_in(other, make_user(role))
        assert other.get(PAGE).status_code == 403
        token = form_token(other, "/admin/events" if role == "marketer" else "/followups")
        for action in ("zoom", "goto", "goto/test", "goto/connect"):
            posted = other.post(
                f"{PAGE}/{action}", data={"csrf_token": token, "goto-client_id": "x"}
            )
            assert posted.status_code == 403
        assert other.get(f"{PAGE}/goto/callback?code=x&state=y").status_code == 403
    assert setting("GOTO_CLIENT_ID") is None


def test_a_saved_secret_is_never_shown_again_and_blank_keeps_it(admin):
    response = _save(
        admin,
        "zoom",
        account_id="acct-1",
        client_id="zoom-client",
        client_secret=LONG_SECRET,
        webhook_secret_token="short-token",
    )
    assert response.status_code == 303
    page = admin.get(PAGE).get_data(as_text=True)
    assert "Zoom settings saved." in page
    assert LONG_SECRET not in page and "short-token" not in page
    assert "saved, ends in …wxyz" in page
    assert "zoom-client" in page  # not a secret: shown, and filled in to edit
    # Saving again with the secrets left blank changes the client id and keeps both secrets.
    assert _save(admin, "zoom", account_id="acct-1", client_id="zoom-client-2").status_code == 303
    zoom = zoom_credentials()
    assert (zoom.client_id, zoom.client_secret, zoom.webhook_secret_token) == (
        "zoom-client-2",
        LONG_SECRET,
        "short-token",
    )
    assert zoom.configured()
    assert LONG_SECRET not in admin.get(PAGE).get_data(as_text=True)


def test_remove_clears_a_saved_secret(admin):
    _save(admin, "zoom", client_secret=LONG_SECRET, webhook_secret_token="short-token")
    _save(admin, "zoom", remove_client_secret="y", webhook_secret_token="")
    assert setting("ZOOM_CLIENT_SECRET") is None
    assert setting("ZOOM_WEBHOOK_SECRET_TOKEN") == "short-token"
    assert db.session.get(Setting, "platform:ZOOM_CLIENT_SECRET") is None


def test_configuration_answers_until_the_console_saves_a_value(app, admin):
    app.config.update(GOTO_CLIENT_SECRET="from-config-secret-1234", GOTO_CLIENT_ID="cfg-id")
    assert setting("GOTO_CLIENT_SECRET") == "from-config-secret-1234"
    page = admin.get(PAGE).get_data(as_text=True)
    assert "from-config-secret-1234" not in page and "configuration" in page
    _save(admin, "goto", client_id="console-id", client_secret="console-secret")
    assert (goto_credentials().client_id, goto_credentials().client_secret) == (
        "console-id",
        "console-secret",
    )
    # A plain field left blank gives the configuration's value back; a removed secret too.
    _save(admin, "goto", client_id="", remove_client_secret="y")
    assert (goto_credentials().client_id, goto_credentials().client_secret) == (
        "cfg-id",
        "from-config-secret-1234",
    )


def test_a_value_with_a_line_break_is_refused_beside_its_field(admin):
    response = _save(admin, "goto", client_id="two\nlines", organizer_key="ok")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="goto-client_id-error"' in html
    assert db.session.scalars(select(Setting).where(Setting.key.like("platform:%"))).all() == []


def test_goto_shows_connected_only_with_client_organizer_and_refresh_token(admin):
    page = admin.get(PAGE).get_data(as_text=True)
    assert page.count("not configured") == 2
    _save(
        admin,
        "goto",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        organizer_key=ORGANIZER_KEY,
        refresh_token=REFRESH_TOKEN,
    )
    page = admin.get(PAGE).get_data(as_text=True)
    assert page.count("not configured") == 1 and "connected" in page
    assert REFRESH_TOKEN not in page and CLIENT_SECRET not in page


# Test connection


def test_test_connection_shows_success_and_keeps_a_new_refresh_token(admin, fake_goto):
    fake_goto.rotate_refresh_tokens = True
    _save(
        admin,
        "goto",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        refresh_token=REFRESH_TOKEN,
        organizer_key=ORGANIZER_KEY,
    )
    response = _press(admin, "test")
    assert response.status_code == 303
    assert "GoTo connected: it issued an access token for 60 minutes." in admin.get(PAGE).text
    db.session.expire_all()
    assert setting("GOTO_REFRESH_TOKEN") == fake_goto.refresh_token != REFRESH_TOKEN


def test_test_connection_shows_gotos_refusal_without_failing(admin):
    _save(admin, "goto", client_id=CLIENT_ID, client_secret="wrong", refresh_token=REFRESH_TOKEN)
    assert _press(admin, "test").status_code == 303
    assert "GoTo did not connect: GoTo refused to issue an access token (401): Bad client" in (
        admin.get(PAGE).text
    )


def test_test_connection_unreachable_goto_is_a_message(app, admin):
    app.config["GOTO_OAUTH_BASE"] = "http://127.0.0.1:9"
    _save(admin, "goto", client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token="r")
    assert _press(admin, "test").status_code == 303
    assert "could not be reached" in admin.get(PAGE).text


# Connect GoTo (OAuth)


def _consent(admin, fake_goto):  # type: ignore[no-untyped-def]
    """Press Connect GoTo; answer where GoTo sends the browser back, with a code."""
    response = _press(admin, "connect")
    assert response.status_code == 303
    target = urlsplit(response.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{fake_goto.url}/oauth/authorize"
    query = {name: values[0] for name, values in parse_qs(target.query).items()}
    assert (query["client_id"], query["response_type"], query["redirect_uri"]) == (
        CLIENT_ID,
        "code",
        CALLBACK,
    )
    return query["state"], fake_goto.issue_code(query["redirect_uri"])


def test_connect_goto_stores_the_refresh_token_and_organizer_key(admin, fake_goto):
    _goto_client(admin)
    state, code = _consent(admin, fake_goto)
    response = admin.get(f"{PAGE}/goto/callback?code={code}&state={state}")
    assert response.status_code == 303
    assert fake_goto.token_grants[-1] == {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
    }
    credentials = goto_credentials()
    assert credentials.refresh_token == fake_goto.refresh_token
    assert credentials.organizer_key == ORGANIZER_KEY
    assert credentials.configured()
    page = admin.get(PAGE).text
    assert "GoTo connected." in page and fake_goto.refresh_token not in page


def test_connect_goto_without_an_organizer_key_in_the_answer_asks_for_it(admin, fake_goto):
    fake_goto.tells_organizer_key = False
    _goto_client(admin)
    state, code = _consent(admin, fake_goto)
    admin.get(f"{PAGE}/goto/callback?code={code}&state={state}")
    assert setting("GOTO_REFRESH_TOKEN") == fake_goto.refresh_token
    assert setting("GOTO_ORGANIZER_KEY") is None
    assert "enter it below" in admin.get(PAGE).text


def test_a_forged_stale_or_reused_state_is_refused_and_stores_nothing(app, admin, fake_goto):
    _goto_client(admin)
    state, code = _consent(admin, fake_goto)
    forged = admin.get(f"{PAGE}/goto/callback?code={code}&state={state[:-2]}xx")
    assert forged.status_code == 400
    # The forged try used up this session's nonce: the real state no longer works either.
    assert admin.get(f"{PAGE}/goto/callback?code={code}&state={state}").status_code == 400
    state, code = _consent(admin, fake_goto)
    other = app.test_client()
    log_in(other, make_user("admin", email="other-admin@example.com"))
    assert other.get(f"{PAGE}/goto/callback?code={code}&state={state}").status_code == 400
    assert setting("GOTO_REFRESH_TOKEN") is None
    assert all(grant["grant_type"] != "authorization_code" for grant in fake_goto.token_grants)


def test_a_refused_consent_or_code_is_a_message_and_stores_nothing(admin, fake_goto):
    _goto_client(admin)
    state, _ = _consent(admin, fake_goto)
    denied = admin.get(f"{PAGE}/goto/callback?error=access_denied&state={state}")
    assert denied.status_code == 303
    assert "GoTo did not connect: access_denied" in admin.get(PAGE).text
    state, _ = _consent(admin, fake_goto)
    bad = admin.get(f"{PAGE}/goto/callback?code=not-issued&state={state}")
    assert bad.status_code == 303
    assert "Invalid auth code" in admin.get(PAGE).text
    assert setting("GOTO_REFRESH_TOKEN") is None


def test_connect_goto_needs_the_client_first(admin):
    response = _press(admin, "connect")
    assert response.status_code == 303 and response.headers["Location"].endswith(PAGE)
    assert "Save GoTo&#39;s client id and secret first." in admin.get(PAGE).text


def test_a_page_without_a_token_is_refused(admin):
    page = admin.get(PAGE).get_data(as_text=True)
    assert csrf_token(page)
    assert admin.post(f"{PAGE}/goto/test", data={}).status_code == 400
