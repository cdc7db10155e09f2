"""Staff login: passwords, sessions and their cookies, safe redirects, CSRF and rate limits."""

from __future__ import annotations

import pytest

from app.db import db
from tests.builders import csrf_token, log_in, make_user


def _post_login(client, email, password, next_=""):  # type: ignore[no-untyped-def]
    page = client.get("/login" + (f"?next={next_}" if next_ else ""))
    token = csrf_token(page.get_data(as_text=True))
    return client.post(
        "/login", data={"csrf_token": token, "email": email, "password": password, "next": next_}
    )


def test_a_marketer_logs_in_and_lands_on_the_events(client, app):
    user = make_user("marketer", email="mia@example.com")
    response = _post_login(client, "MIA@example.com ", "password123")
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/events"
    page = client.get("/admin/events")
    assert page.status_code == 200
    assert user.name in page.get_data(as_text=True)


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client, app):
    make_user("admin", email="ann@example.com")
    wrong_password = _post_login(client, "ann@example.com", "not-the-password")
    unknown_email = _post_login(client, "nobody@example.com", "password123")
    for response in (wrong_password, unknown_email):
        assert response.status_code == 422
        assert "do not match an active staff account" in response.get_data(as_text=True)
    assert client.get("/admin/events").status_code == 302


def test_empty_fields_get_a_message_next_to_each(client, app):
    response = _post_login(client, "", "")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="email-error"' in html and "Enter your email address." in html
    assert 'id="password-error"' in html and "Enter your password." in html


def test_a_control_character_in_the_email_is_refused_not_a_500(client, app):
    response = _post_login(client, "ann\x00@example.com", "password123")
    assert response.status_code == 422
    assert 'id="email-error"' in response.get_data(as_text=True)


def test_a_deactivated_user_cannot_log_in_and_loses_an_open_session(client, app):
    user = make_user("marketer")
    log_in(client, user)
    assert client.get("/admin/events").status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/admin/events").status_code == 302
    assert _post_login(client, user.email, "password123").status_code == 422


def test_login_without_the_csrf_token_is_refused(client, app):
    make_user("admin", email="ann@example.com")
    response = client.post("/login", data={"email": "ann@example.com", "password": "password123"})
    assert response.status_code == 400
    assert client.get("/admin/events").status_code == 302


@pytest.mark.parametrize(
    ("next_", "landing"),
    [
        ("/admin/settings", "/admin/settings"),
        ("/admin/events?past_page=2", "/admin/events?past_page=2"),
        ("https://evil.example/phish", "/admin/events"),
        ("//evil.example/phish", "/admin/events"),
        ("/\\evil.example", "/admin/events"),
        ("javascript:alert(1)", "/admin/events"),
        ("/%0d%0aSet-Cookie:x=1", "/%0d%0aSet-Cookie:x=1"),
    ],
)
def test_login_follows_next_only_to_a_path_on_this_site(client, app, next_, landing):
    make_user("admin", email="ann@example.com")
    response = _post_login(client, "ann@example.com", "password123", next_=next_)
    assert response.status_code == 303
    assert response.headers["Location"] == landing


def test_an_anonymous_visit_to_the_console_comes_back_after_login(client, app):
    make_user("admin", email="ann@example.com")
    response = client.get("/admin/settings")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/admin/settings"
    login = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/admin/settings"' in login
    token = csrf_token(login)
    answer = client.post(
        "/login",
        data={
            "csrf_token": token,
            "email": "ann@example.com",
            "password": "password123",
            "next": "/admin/settings",
        },
    )
    assert answer.headers["Location"] == "/admin/settings"


def test_a_rep_lands_on_their_follow_up_list(client, app):
    make_user("rep", email="rita@example.com")
    response = _post_login(client, "rita@example.com", "password123")
    assert response.headers["Location"] == "/followups"
    assert client.get("/followups").status_code == 200
    assert client.get("/admin/events").status_code == 403


def test_the_session_cookie_is_httponly_and_samesite_lax(client, app):
    make_user("admin", email="ann@example.com")
    response = _post_login(client, "ann@example.com", "password123")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in tests: a Secure cookie would never come back


def test_over_https_the_session_cookie_is_also_secure(app_config, monkeypatch):
    from app import create_app

    monkeypatch.setenv("BASE_URL", "https://events.example.com")
    app = create_app(app_config)
    with app.app_context():
        make_user("admin", email="ann@example.com")
        response = _post_login(app.test_client(), "ann@example.com", "password123")
        assert response.status_code == 303
        assert "; Secure" in response.headers["Set-Cookie"]
        db.session.remove()
        db.engine.dispose()


def test_logging_out_takes_a_post_with_the_csrf_token(client, app):
    user = make_user("marketer")
    log_in(client, user)
    assert client.post("/logout").status_code == 400  # no token: nothing happens
    assert client.get("/admin/events").status_code == 200
    token = csrf_token(client.get("/logout").get_data(as_text=True))
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert client.get("/admin/events").status_code == 302


def test_logging_in_starts_a_fresh_session(client, app):
    user = make_user("admin")
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    log_in(client, user)
    with client.session_transaction() as session:
        assert "planted" not in session


class TestRateLimits:
    @pytest.fixture
    def app_config(self, app_config):  # type: ignore[no-untyped-def]
        return {**app_config, "RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}

    def test_login_attempts_from_one_address_are_limited(self, client, app):
        make_user("admin", email="ann@example.com")
        codes = [_post_login(client, f"guess{n}@example.com", "nope").status_code for n in range(4)]
        assert codes == [422, 422, 422, 429]
        # The right password does not get through either until the minute is over.
        assert _post_login(client, "ann@example.com", "password123").status_code == 429
        assert client.get("/login").status_code == 200  # the page itself stays readable

    def test_the_rate_limit_headers_count_the_attempts_from_the_address(self, client, app):
        answers = [_post_login(client, f"guess{n}@example.com", "nope") for n in range(4)]
        # Each email is new (its own count stays at 2 left); the address's count falls.
        assert [a.headers["X-RateLimit-Limit"] for a in answers] == ["3"] * 4
        assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
        assert answers[-1].status_code == 429 and int(answers[-1].headers["Retry-After"]) > 0

    def test_attempts_at_one_email_are_limited_across_addresses(self, client, app):
        make_user("admin", email="ann@example.com")
        codes = []
        for n in range(4):
            page = client.get("/login")
            codes.append(
                client.post(
                    "/login",
                    data={
                        "csrf_token": csrf_token(page.get_data(as_text=True)),
                        "email": "ANN@example.com",
                        "password": "nope",
                    },
                    environ_base={"REMOTE_ADDR": f"10.0.0.{n + 1}"},
                ).status_code
            )
        assert codes == [422, 422, 422, 429]
        page = client.get("/login")
        other = client.post(
            "/login",
            data={
                "csrf_token": csrf_token(page.get_data(as_text=True)),
                "email": "someone-else@example.com",
                "password": "nope",
            },
            environ_base={"REMOTE_ADDR": "10.0.0.99"},
        )
        assert other.status_code == 422

    def test_the_default_limit_is_ten_a_minute(self, app_config):
        from app import create_app

        config = {key: value for key, value in app_config.items() if key != "LOGIN_RATE_LIMIT"}
        app = create_app(config)
        with app.app_context():
            make_user("admin", email="ann@example.com")
            client = app.test_client()
            codes = [_post_login(client, "x@example.com", "nope").status_code for _ in range(11)]
            assert codes == [422] * 10 + [429]
            db.session.remove()
            db.engine.dispose()
