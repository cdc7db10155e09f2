"""GoTo Webinar (REST v2): registrants added and cancelled, attendance pulled after the sessions.

The only module that talks to GoTo. Access tokens come from the organizer's refresh token
(`grant_type=refresh_token`, Basic client id and secret) and are kept, per process, until just
before GoTo says they expire. GoTo may answer a refresh with a new refresh token: the connector
uses it from then on and hands it to `on_refresh_token`, so it can be stored in place of the old.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

import httpx

from app.followup.attendance.report import Attendee, AttendeeReport
from app.platforms.base import Person, PlatformError, PlatformRegistrant
from app.platforms.credentials import GoToCredentials, goto_credentials, store

TIMEOUT = httpx.Timeout(15.0)
# GoTo's largest page of sessions.
PAGE_SIZE = 200
# More pages than any webinar has sessions: a server that keeps answering "next" is stopped.
MAX_PAGES = 500
# A token is renewed this long before GoTo's expiry (at most a tenth of its life), so it does
# not run out between the check and the call.
EXPIRY_MARGIN_SECONDS = 60.0
SOURCE = "GoTo Webinar"
# GoTo refuses a registrant without a first and last name, which our form leaves optional
# (a last name): this stands in for the missing one.
NO_NAME = "-"


@dataclass(frozen=True)
class TokenAnswer:
    """What GoTo's token endpoint answered: `refresh_token` is a new one to keep, when it
    issued one; `organizer_key` is the connected organizer's, when it says."""

    access_token: str
    expires_in: float
    refresh_token: str | None
    organizer_key: str | None


@dataclass(frozen=True)
class _CachedToken:
    access_token: str
    expires_at: float
    organizer_key: str | None


# Access tokens by (token endpoint, client id, refresh token), shared by the connectors of a
# process: the worker builds a connector per job, and GoTo allows ten requests a second.
_tokens: dict[tuple[str, str, str], _CachedToken] = {}
_lock = threading.Lock()
_http: httpx.Client | None = None


def _message(response: httpx.Response) -> str:
    """GoTo's own words for a refusal, from whichever field this endpoint uses."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict):
        for name in ("description", "error_description", "msg", "message", "errorCode", "error"):
            if body.get(name):
                return str(body[name])[:200]
    return response.reason_phrase


def _retry_after(response: httpx.Response) -> float | None:
    text = response.headers.get("Retry-After", "").strip()
    if not text:
        return None
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _checked(response: httpx.Response, what: str) -> httpx.Response:
    """The response when it succeeded; otherwise the PlatformError the worker acts on."""
    if response.is_success:
        return response
    status = response.status_code
    message = f"GoTo refused to {what} ({status}): {_message(response)}"
    if status == 429:
        raise PlatformError(message, retry_after=_retry_after(response))
    if status >= 500:
        raise PlatformError(message)
    raise PlatformError(message, permanent=True)


def _client() -> httpx.Client:
    """One HTTP client per process, made on first use (after a server forks its workers): its
    connections are reused across pages and jobs, and its TLS setup is paid once."""
    global _http
    with _lock:
        if _http is None:
            _http = httpx.Client(timeout=TIMEOUT)
        return _http


def _send(method: str, url: str, what: str, **options: Any) -> httpx.Response:
    try:
        return _client().request(method, url, **options)
    except httpx.HTTPError as exc:
        raise PlatformError(f"GoTo could not be reached to {what}: {exc}") from None


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise PlatformError(f"GoTo's answer to {what} was not JSON.") from None


def _instant(text: Any) -> datetime | None:
    """GoTo's times (`2026-03-12T17:01:27Z`, with milliseconds or `+0000`) as UTC instants."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def request_token(credentials: GoToCredentials, grant: dict[str, str]) -> TokenAnswer:
    """Ask GoTo's token endpoint for an access token with this grant."""
    if not credentials.client_id or not credentials.client_secret:
        raise PlatformError("GoTo is not set up: enter its client id and secret.", permanent=True)
    response = _send(
        "POST",
        f"{credentials.oauth_base}/oauth/token",
        "issue an access token",
        data=grant,
        auth=(credentials.client_id, credentials.client_secret),
        headers={"Accept": "application/json"},
    )
    body = _json(_checked(response, "issue an access token"), "the token request")
    if not isinstance(body, dict) or not body.get("access_token"):
        raise PlatformError("GoTo's token answer had no access token.")
    organizer = body.get("organizer_key")
    try:
        expires_in = max(float(body.get("expires_in") or 0), 0.0)
    except (TypeError, ValueError):
        expires_in = 0.0  # unsaid: used for this call only, never kept
    return TokenAnswer(
        access_token=str(body["access_token"]),
        expires_in=expires_in,
        refresh_token=str(body["refresh_token"]) if body.get("refresh_token") else None,
        organizer_key=str(organizer) if organizer else None,
    )


def authorize_url(credentials: GoToCredentials, redirect_uri: str, state: str) -> str:
    """Where an admin is sent to let us act for their GoTo organizer account."""
    query = urlencode(
        {
            "client_id": credentials.client_id or "",
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "state": state,
        }
    )
    return f"{credentials.oauth_base}/oauth/authorize?{query}"


def exchange_code(credentials: GoToCredentials, code: str, redirect_uri: str) -> TokenAnswer:
    """Trade the code GoTo sent back to the callback for the organizer's tokens."""
    return request_token(
        credentials,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
    )


class GoToConnector:
    """GoTo Webinar for the worker: a webinar id here is GoTo's `webinarKey`."""

    name: ClassVar[str] = "goto"
    label: ClassVar[str] = "GoTo Webinar"

    def __init__(
        self,
        credentials: GoToCredentials,
        *,
        on_refresh_token: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.credentials = credentials
        self._refresh_token = credentials.refresh_token
        self._organizer_key = credentials.organizer_key
        self._on_refresh_token = on_refresh_token
        self._clock = clock

    @classmethod
    def from_settings(cls) -> GoToConnector:
        """The connector for the saved credentials. A new refresh token GoTo issues is put in
        the session as the saved one; the caller's commit keeps it."""
        return cls(
            goto_credentials(),
            on_refresh_token=lambda token: store({"GOTO_REFRESH_TOKEN": token}),
        )

    def configured(self) -> bool:
        return self.credentials.configured()

    def _cache_key(self, refresh_token: str) -> tuple[str, str, str]:
        return (self.credentials.oauth_base, self.credentials.client_id or "", refresh_token)

    def check(self) -> TokenAnswer:
        """Fetch a fresh access token, cached or not: the console's "Test connection"."""
        if not self._refresh_token:
            raise PlatformError(
                "GoTo is not connected: use Connect GoTo, or enter a refresh token.",
                permanent=True,
            )
        used = self._refresh_token
        answer = request_token(
            self.credentials, {"grant_type": "refresh_token", "refresh_token": used}
        )
        if answer.organizer_key and not self._organizer_key:
            self._organizer_key = answer.organizer_key
        life = answer.expires_in - min(EXPIRY_MARGIN_SECONDS, answer.expires_in / 10)
        cached = _CachedToken(answer.access_token, self._clock() + life, self._organizer_key)
        with _lock:
            _tokens[self._cache_key(used)] = cached
            if answer.refresh_token:
                _tokens[self._cache_key(answer.refresh_token)] = cached
        if answer.refresh_token and answer.refresh_token != used:
            self._refresh_token = answer.refresh_token
            if self._on_refresh_token is not None:
                self._on_refresh_token(answer.refresh_token)
        return answer

    def access_token(self) -> str:
        """A valid access token: the process's cached one, else a new one from GoTo."""
        with _lock:
            cached = _tokens.get(self._cache_key(self._refresh_token or ""))
        if cached is not None and cached.expires_at > self._clock():
            self._organizer_key = self._organizer_key or cached.organizer_key
            return cached.access_token
        return self.check().access_token

    def _forget_token(self) -> None:
        with _lock:
            _tokens.pop(self._cache_key(self._refresh_token or ""), None)

    def _api(self, method: str, path: str, what: str, **options: Any) -> httpx.Response:
        """Call the API; an access token GoTo no longer takes is renewed once."""

        def send() -> httpx.Response:
            # The token first: its answer may name the organizer the path needs.
            headers = {"Authorization": f"Bearer {self.access_token()}"}
            url = f"{self.credentials.api_base}{self._webinar_path(path)}"
            headers["Accept"] = "application/json"
            return _send(method, url, what, headers=headers, **options)

        response = send()
        if response.status_code == 401:
            self._forget_token()
            response = send()
        return response

    def _webinar_path(self, path: str) -> str:
        if not self._organizer_key:
            raise PlatformError(
                "GoTo's organizer key is not set: connect GoTo again, or enter it in the "
                "console's Webinar platforms settings.",
                permanent=True,
            )
        return f"/organizers/{quote(self._organizer_key, safe='')}{path}"

    def add_registrant(self, webinar_id: str, person: Person) -> PlatformRegistrant:
        fields = {
            "firstName": person.first_name.strip() or NO_NAME,
            "lastName": person.last_name.strip() or NO_NAME,
            "email": person.email,
            "organization": person.company,
            "jobTitle": person.title,
            "country": person.country,
            "phone": person.phone,
        }
        path = f"/webinars/{quote(webinar_id, safe='')}/registrants"
        what = "add the registrant"
        body = {name: value for name, value in fields.items() if value}
        response = self._api("POST", path, what, json=body)
        if response.status_code == 409:
            return self._registrant_by_email(webinar_id, person.email)
        answer = _json(_checked(response, what), what)
        if not isinstance(answer, dict) or answer.get("registrantKey") in (None, ""):
            raise PlatformError("GoTo's registrant answer had no registrantKey.")
        return PlatformRegistrant(str(answer["registrantKey"]), answer.get("joinUrl") or None)

    def _registrant_by_email(self, webinar_id: str, email: str) -> PlatformRegistrant:
        """GoTo's record of someone it says is already registered (a retried add)."""
        what = "list the registrants"
        path = f"/webinars/{quote(webinar_id, safe='')}/registrants"
        listed = _json(_checked(self._api("GET", path, what), what), what)
        for item in listed if isinstance(listed, list) else []:
            if isinstance(item, dict) and str(item.get("email", "")).lower() == email.lower():
                return PlatformRegistrant(str(item["registrantKey"]), item.get("joinUrl") or None)
        raise PlatformError(f"GoTo says {email} is registered but does not list them.")

    def cancel_registrant(self, webinar_id: str, registrant_id: str, email: str) -> None:
        path = f"/webinars/{quote(webinar_id, safe='')}/registrants/{quote(registrant_id, safe='')}"
        response = self._api("DELETE", path, "cancel the registrant")
        if response.status_code != 404:
            _checked(response, "cancel the registrant")

    def _sessions(self, webinar_id: str) -> Iterator[dict[str, Any]]:
        """Every session of the webinar, page after page."""
        what = "list the webinar's sessions"
        path = f"/webinars/{quote(webinar_id, safe='')}/sessions"
        for page in range(MAX_PAGES):
            response = self._api("GET", path, what, params={"page": page, "size": PAGE_SIZE})
            body = _json(_checked(response, what), what)
            if not isinstance(body, dict):
                raise PlatformError("GoTo's sessions answer was not an object.")
            found = (body.get("_embedded") or {}).get("sessionInfoResources") or []
            yield from (item for item in found if isinstance(item, dict))
            pages = (body.get("page") or {}).get("totalPages")
            if not found or not isinstance(pages, int) or page + 1 >= pages:
                return
        raise PlatformError(f"GoTo kept listing sessions past {MAX_PAGES} pages.")

    def fetch_attendance(self, webinar_id: str) -> AttendeeReport:
        attendees: dict[str, Attendee] = {}
        rows = 0
        lasted = 0.0
        what = "list a session's attendees"
        for session in self._sessions(webinar_id):
            started, ended = _instant(session.get("startTime")), _instant(session.get("endTime"))
            if started and ended:
                lasted += max((ended - started).total_seconds() / 60, 0.0)
            key = quote(str(session.get("sessionKey", "")), safe="")
            path = f"/webinars/{quote(webinar_id, safe='')}/sessions/{key}/attendees"
            listed = _json(_checked(self._api("GET", path, what), what), what)
            for item in listed if isinstance(listed, list) else []:
                rows += _add_attendee(attendees, item)
        return AttendeeReport(
            source=SOURCE, attendees=attendees, rows=rows, actual_minutes=lasted or None
        )


def _add_attendee(attendees: dict[str, Attendee], item: Any) -> int:
    """Count one session's attendee in: each join interval is a join, as a report's row is.
    Answers how many joins that made."""
    email = str(item.get("email") or "").strip().lower() if isinstance(item, dict) else ""
    if "@" not in email:
        return 0
    person = attendees.setdefault(email, Attendee(email=email))
    intervals = [part for part in item.get("attendance") or [] if isinstance(part, dict)]
    for part in intervals:
        joined, left = _instant(part.get("joinTime")), _instant(part.get("leaveTime"))
        minutes = max((left - joined).total_seconds() / 60, 0.0) if joined and left else 0.0
        person.add_join(minutes, joined, left, 0)
    if not intervals:
        seconds = item.get("attendanceTimeInSeconds")
        minutes = float(seconds) / 60 if isinstance(seconds, int | float) else 0.0
        person.add_join(minutes, None, None, 0)
    return max(len(intervals), 1)
