"""The GoTo Webinar connector against a local fake GoTo: tokens from the refresh token, kept
until they expire; registrants added (a retried add finds the first), cancelled; attendance
from every session, page after page, one attendee per person; throttling, outages and refusals
as the PlatformError the worker acts on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.platforms.base import Person, PlatformError
from app.platforms.credentials import GoToCredentials
from app.platforms.goto import GoToConnector
from tests.fake_goto import CLIENT_ID, CLIENT_SECRET, ORGANIZER_KEY, REFRESH_TOKEN, FakeGoTo

WEBINAR = "5300000000000000001"
ADA = Person(
    email="Ada@Example.com",
    first_name="Ada",
    last_name="Lovelace",
    company="Analytical Engines",
    title="Engineer",
    country="GB",
    phone="+44 20 7946 0000",
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _credentials(fake: FakeGoTo, **changes: str | None) -> GoToCredentials:
    values: dict[str, str | None] = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "organizer_key": ORGANIZER_KEY,
        "refresh_token": REFRESH_TOKEN,
        "api_base": fake.api_base,
        "oauth_base": fake.url,
    }
    values.update(changes)
    return GoToCredentials(**values)  # type: ignore[arg-type]


@pytest.fixture
def goto(fake_goto: FakeGoTo) -> GoToConnector:
    fake_goto.webinar(WEBINAR)
    return GoToConnector(_credentials(fake_goto))


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Tokens


def test_an_access_token_is_fetched_once_and_kept_until_it_expires(fake_goto):
    clock = Clock()
    first = GoToConnector(_credentials(fake_goto), clock=clock)
    token = first.access_token()
    assert fake_goto.token_grants == [
        {"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN}
    ]
    # Another connector in the same process (the worker's next job) reuses it.
    assert GoToConnector(_credentials(fake_goto), clock=clock).access_token() == token
    clock.now += 3600 - 61
    assert first.access_token() == token
    assert len(fake_goto.token_grants) == 1
    clock.now += 2  # within a minute of GoTo's expiry: renewed
    assert first.access_token() != token
    assert len(fake_goto.token_grants) == 2


def test_a_new_refresh_token_from_goto_is_used_and_handed_on_to_be_stored(fake_goto):
    fake_goto.rotate_refresh_tokens = True
    fake_goto.expires_in = 0
    stored: list[str] = []
    goto = GoToConnector(_credentials(fake_goto), on_refresh_token=stored.append)
    goto.access_token()
    goto.access_token()
    assert len(stored) == 2 and stored[-1] == fake_goto.refresh_token
    # The second refresh used the first rotation's token, not the one configured.
    assert fake_goto.token_grants[1]["refresh_token"] == stored[0]


def test_an_access_token_goto_stops_taking_is_renewed_once(goto, fake_goto):
    goto.access_token()
    fake_goto.access_tokens.clear()
    goto.cancel_registrant(WEBINAR, "1", "ada@example.com")  # 404 after the renewal: done
    assert len(fake_goto.token_grants) == 2


def test_wrong_client_credentials_are_a_permanent_error_with_gotos_words(fake_goto):
    goto = GoToConnector(_credentials(fake_goto, client_secret="wrong"))
    with pytest.raises(PlatformError) as refused:
        goto.add_registrant(WEBINAR, ADA)
    assert refused.value.permanent
    assert "Bad client" in refused.value.message


def test_a_revoked_refresh_token_is_a_permanent_error(fake_goto):
    goto = GoToConnector(_credentials(fake_goto, refresh_token="revoked"))
    with pytest.raises(PlatformError) as refused:
        goto.check()
    assert refused.value.permanent
    assert "Invalid refresh token" in refused.value.message


def test_the_organizer_key_comes_from_the_token_answer_when_none_is_saved(fake_goto):
    fake_goto.webinar(WEBINAR)
    goto = GoToConnector(_credentials(fake_goto, organizer_key=None))
    assert goto.add_registrant(WEBINAR, ADA).registrant_id
    fake_goto.tells_organizer_key = False
    # Long after the first token expired, from an answer that does not name the organizer.
    unknown = GoToConnector(_credentials(fake_goto, organizer_key=None), clock=lambda: 1e12)
    with pytest.raises(PlatformError) as refused:
        unknown.add_registrant(WEBINAR, ADA)
    assert refused.value.permanent
    assert "organizer key" in refused.value.message


# Registrants


def test_a_registrant_is_added_with_every_field_and_gets_their_own_join_link(goto, fake_goto):
    added = goto.add_registrant(WEBINAR, ADA)
    stored = fake_goto.webinars[WEBINAR].registrants[added.registrant_id]
    assert added.join_url == f"https://global.gotowebinar.com/join/{added.registrant_id}"
    assert (stored["firstName"], stored["lastName"], stored["email"]) == (
        "Ada",
        "Lovelace",
        "Ada@Example.com",
    )
    assert (stored["organization"], stored["jobTitle"], stored["country"], stored["phone"]) == (
        "Analytical Engines",
        "Engineer",
        "GB",
        "+44 20 7946 0000",
    )


def test_someone_without_a_last_name_is_added_though_goto_requires_one(goto, fake_goto):
    added = goto.add_registrant(
        WEBINAR, Person(email="cher@example.com", first_name="Cher", last_name="")
    )
    stored = fake_goto.webinars[WEBINAR].registrants[added.registrant_id]
    assert (stored["firstName"], stored["lastName"]) == ("Cher", "-")


def test_adding_someone_goto_already_has_answers_their_first_registration(goto, fake_goto):
    first = goto.add_registrant(WEBINAR, ADA)
    again = goto.add_registrant(WEBINAR, Person("ada@example.com", "Ada", "Lovelace"))
    assert again == first
    assert len(fake_goto.webinars[WEBINAR].registrants) == 1


def test_a_cancelled_registrant_is_deleted_and_one_goto_lacks_counts_as_done(goto, fake_goto):
    added = goto.add_registrant(WEBINAR, ADA)
    goto.cancel_registrant(WEBINAR, added.registrant_id, ADA.email)
    assert fake_goto.webinars[WEBINAR].registrants == {}
    goto.cancel_registrant(WEBINAR, added.registrant_id, ADA.email)
    deletes = fake_goto.api_calls("DELETE")
    assert len(deletes) == 2 and deletes[0].path.endswith(f"/registrants/{added.registrant_id}")


def test_an_unknown_webinar_is_a_permanent_error(goto):
    with pytest.raises(PlatformError) as refused:
        goto.add_registrant("999", ADA)
    assert refused.value.permanent
    assert "Webinar not found" in refused.value.message


# Attendance


def test_attendance_combines_every_session_and_every_rejoin_of_a_person(goto, fake_goto):
    fake_goto.add_session(
        WEBINAR,
        "2026-03-12T17:00:00Z",
        "2026-03-12T18:00:00Z",
        [
            {
                "registrantKey": 1,
                "email": "ADA@example.com",
                "firstName": "Ada",
                "lastName": "Lovelace",
                "attendanceTimeInSeconds": 2400,
                "attendance": [
                    {"joinTime": "2026-03-12T17:00:00Z", "leaveTime": "2026-03-12T17:30:00Z"},
                    {"joinTime": "2026-03-12T17:50:00.000Z", "leaveTime": "2026-03-12T18:00:00Z"},
                ],
            },
            {
                "registrantKey": 2,
                "email": "grace@example.com",
                "attendanceTimeInSeconds": 900,
                "attendance": [],
            },
        ],
    )
    fake_goto.add_session(
        WEBINAR,
        "2026-03-19T17:00:00Z",
        "2026-03-19T17:45:00Z",
        [
            {
                "registrantKey": 1,
                "email": "ada@example.com",
                "attendance": [
                    {"joinTime": "2026-03-19T17:05:00+0000", "leaveTime": "2026-03-19T17:20:00Z"}
                ],
            }
        ],
    )
    report = goto.fetch_attendance(WEBINAR)
    assert report.source == "GoTo Webinar"
    assert set(report.attendees) == {"ada@example.com", "grace@example.com"}
    ada = report.attendees["ada@example.com"]
    assert (ada.attended, ada.joins, ada.minutes) == (True, 3, 55.0)
    assert ada.joined_at == _at("2026-03-12T17:00:00")
    assert ada.left_at == _at("2026-03-19T17:20:00")
    grace = report.attendees["grace@example.com"]
    assert (grace.attended, grace.joins, grace.minutes) == (True, 1, 15.0)
    assert report.rows == 4
    assert report.actual_minutes == 105.0


def test_attendance_follows_every_page_of_sessions(goto, fake_goto):
    for day in range(201):
        start = f"2026-01-01T{day % 24:02d}:00:00Z"
        attendees = [{"email": f"person{day}@example.com", "attendanceTimeInSeconds": 60}]
        fake_goto.add_session(WEBINAR, start, start, attendees if day in (0, 200) else [])
    report = goto.fetch_attendance(WEBINAR)
    assert set(report.attendees) == {"person0@example.com", "person200@example.com"}
    pages = [call.query for call in fake_goto.api_calls("GET") if call.path.endswith("/sessions")]
    assert pages == [{"page": "0", "size": "200"}, {"page": "1", "size": "200"}]


def test_a_webinar_without_sessions_reports_nobody(goto):
    report = goto.fetch_attendance(WEBINAR)
    assert (report.attendees, report.rows, report.actual_minutes) == ({}, 0, None)


# Failures the worker retries, or gives up on


def test_throttling_is_retried_after_the_wait_goto_asked_for(goto, fake_goto):
    goto.access_token()
    fake_goto.throttle(1, retry_after="7")
    with pytest.raises(PlatformError) as throttled:
        goto.add_registrant(WEBINAR, ADA)
    assert (throttled.value.retry_after, throttled.value.permanent) == (7.0, False)
    fake_goto.throttle(1, retry_after=None)
    with pytest.raises(PlatformError) as unsaid:
        goto.fetch_attendance(WEBINAR)
    assert (unsaid.value.retry_after, unsaid.value.permanent) == (None, False)
    assert goto.add_registrant(WEBINAR, ADA).registrant_id


def test_an_outage_is_an_error_to_retry_and_the_call_works_once_goto_is_back(goto, fake_goto):
    fake_goto.down = True
    with pytest.raises(PlatformError) as down:
        goto.add_registrant(WEBINAR, ADA)
    assert not down.value.permanent and down.value.retry_after is None
    fake_goto.down = False
    assert goto.add_registrant(WEBINAR, ADA).join_url


def test_goto_out_of_reach_is_an_error_to_retry(fake_goto):
    goto = GoToConnector(_credentials(fake_goto, oauth_base="http://127.0.0.1:9"))
    with pytest.raises(PlatformError) as unreachable:
        goto.add_registrant(WEBINAR, ADA)
    assert not unreachable.value.permanent
    assert "could not be reached" in unreachable.value.message


def test_configured_needs_the_client_the_organizer_and_its_refresh_token(fake_goto):
    assert GoToConnector(_credentials(fake_goto)).configured()
    for missing in ("client_id", "client_secret", "organizer_key", "refresh_token"):
        assert not GoToConnector(_credentials(fake_goto, **{missing: None})).configured()
