"""Zoom Webinars through a Server-to-Server OAuth app: registrants added and cancelled, and the
participants and Q&A reports read back after the webinar.

The access token (an hour long, no refresh token) is kept per account until shortly before it
runs out; an answer of 401 (revoked, or the clock was off) fetches a new one once.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from app.followup.attendance.report import Attendee, AttendeeReport
from app.platforms.base import Person, PlatformError, PlatformRegistrant

log = logging.getLogger(__name__)

SOURCE = "Zoom webinar report (API)"
# The report's largest page.
PAGE_SIZE = 300
# A token is renewed this long before Zoom says it expires.
TOKEN_MARGIN_SECONDS = 60


@dataclass(frozen=True)
class ZoomSettings:
    """A Server-to-Server OAuth app's credentials and where Zoom (or a fake of it) answers."""

    account_id: str | None
    client_id: str | None
    client_secret: str | None
    api_base: str
    oauth_base: str
    timeout: float = 15.0


@dataclass
class _Token:
    value: str
    expires: float  # time.monotonic() after which it is not used


# Tokens by (oauth base, account, client): shared by the connectors a process makes, so each
# worker pass does not ask Zoom for a new one.
_tokens: dict[tuple[str, str, str], _Token] = {}
_tokens_lock = threading.Lock()


class ZoomConnector:
    """The Connector for Zoom Webinars; `settings` come from `registry.connector`."""

    name: ClassVar[str] = "zoom"
    label: ClassVar[str] = "Zoom"

    def __init__(self, settings: ZoomSettings) -> None:
        self.settings = settings

    def configured(self) -> bool:
        settings = self.settings
        return bool(settings.account_id and settings.client_id and settings.client_secret)

    def add_registrant(self, webinar_id: str, person: Person) -> PlatformRegistrant:
        body = {
            "email": person.email,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "org": person.company,
            "job_title": person.title,
            "country": person.country,
            "phone": person.phone,
        }
        answer = self._call(
            "POST",
            f"/webinars/{webinar_id}/registrants",
            json={key: value for key, value in body.items() if value},
        )
        data = answer.json()
        registrant_id = data.get("registrant_id") or data.get("id")
        if not registrant_id:
            raise PlatformError("Zoom answered without a registrant id.")
        return PlatformRegistrant(str(registrant_id), data.get("join_url") or None)

    def cancel_registrant(self, webinar_id: str, registrant_id: str, email: str) -> None:
        body = {"action": "cancel", "registrants": [{"id": registrant_id, "email": email}]}
        try:
            self._call("PUT", f"/webinars/{webinar_id}/registrants/status", json=body)
        except PlatformError as error:
            # Zoom answers 404 once the webinar (and so the registrant) is gone: nothing to undo.
            if not (isinstance(error, ZoomError) and error.status == 404):
                raise

    def fetch_attendance(self, webinar_id: str) -> AttendeeReport:
        report = AttendeeReport(source=SOURCE, attendees={}, rows=0)
        skipped = 0
        for row in self._participants(webinar_id):
            report.rows += 1
            email = (row.get("user_email") or "").strip().lower()
            if not email:
                skipped += 1
                continue
            person = report.attendees.setdefault(email, Attendee(email=email))
            seconds = float(row.get("duration") or 0)
            joined, left = parse_instant(row.get("join_time")), parse_instant(row.get("leave_time"))
            person.add_join(seconds / 60, joined, left, 0)
        if skipped:
            report.warnings.append(
                f"{skipped} row{'s' if skipped != 1 else ''} of Zoom's report had no email "
                "(guests who joined without signing in) and could not be matched."
            )
        self._count_questions(webinar_id, report)
        return report

    def _participants(self, webinar_id: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        token = ""
        while True:
            params = {"page_size": PAGE_SIZE, "include_fields": "registrant_id"}
            if token:
                params["next_page_token"] = token
            data = self._call(
                "GET", f"/report/webinars/{webinar_id}/participants", params=params
            ).json()
            rows.extend(data.get("participants") or [])
            token = data.get("next_page_token") or ""
            if not token:
                return rows

    def _count_questions(self, webinar_id: str, report: AttendeeReport) -> None:
        """Each Q&A question counts toward its asker's `questions`. The polls report
        (`/report/webinars/{id}/polls`, the same `questions[{name,email,question_details}]`
        shape) is not read: a poll answer is not a question, the report and the registration
        have no figure to keep it in, and each report call is a Heavy one on Zoom's rate limit."""
        try:
            data = self._call("GET", f"/report/webinars/{webinar_id}/qa").json()
        except PlatformError as error:
            if not error.permanent:
                raise
            # Q&A turned off for this webinar: the attendance stands without questions.
            report.warnings.append(f"Zoom's Q&A report was not available: {error.message}")
            return
        for asker in data.get("questions") or []:
            email = (asker.get("email") or "").strip().lower()
            person = report.attendees.get(email)
            if person is not None:
                person.questions += len(asker.get("question_details") or [])

    def _call(self, method: str, path: str, **options: Any) -> httpx.Response:
        url = self.settings.api_base.rstrip("/") + path
        answer = self._send(method, url, self._token(), **options)
        if answer.status_code == 401:
            answer = self._send(method, url, self._token(renew=True), **options)
        _raise_for(answer)
        return answer

    def _send(self, method: str, url: str, token: str, **options: Any) -> httpx.Response:
        try:
            return httpx.request(
                method,
                url,
                headers={"Authorization": f"Bearer {token}"},
                timeout=self.settings.timeout,
                **options,
            )
        except httpx.HTTPError as error:
            raise PlatformError(f"Could not reach Zoom: {error}") from error

    def _token(self, *, renew: bool = False) -> str:
        settings = self.settings
        if not self.configured():
            raise PlatformError("Zoom is not connected.", permanent=True)
        key = (settings.oauth_base, str(settings.account_id), str(settings.client_id))
        with _tokens_lock:
            kept = _tokens.get(key)
            if kept is not None and not renew and kept.expires > time.monotonic():
                return kept.value
            try:
                answer = httpx.post(
                    settings.oauth_base.rstrip("/") + "/oauth/token",
                    params={"grant_type": "account_credentials", "account_id": settings.account_id},
                    auth=(str(settings.client_id), str(settings.client_secret)),
                    timeout=settings.timeout,
                )
            except httpx.HTTPError as error:
                raise PlatformError(f"Could not reach Zoom: {error}") from error
            _raise_for(answer)
            data = answer.json()
            lifetime = float(data.get("expires_in") or 3600)
            token = _Token(
                str(data["access_token"]),
                time.monotonic() + max(lifetime - TOKEN_MARGIN_SECONDS, 0),
            )
            _tokens[key] = token
            return token.value


class ZoomError(PlatformError):
    """A Zoom answer that was not a success, with its HTTP status."""

    def __init__(self, message: str, status: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.status = status


def _raise_for(answer: httpx.Response) -> None:
    status = answer.status_code
    if status < 400:
        return
    said = _message(answer)
    if status == 429:
        raise ZoomError(
            f"Zoom asked us to slow down: {said}",
            status,
            retry_after=_seconds(answer.headers.get("Retry-After")),
        )
    if status >= 500:
        raise ZoomError(f"Zoom is not answering ({status}): {said}", status)
    if status == 401:
        raise ZoomError(f"Zoom refused the app's credentials: {said}", status, permanent=True)
    raise ZoomError(f"Zoom refused ({status}): {said}", status, permanent=True)


def _message(answer: httpx.Response) -> str:
    try:
        data = answer.json()
    except ValueError:
        return answer.text[:300] or answer.reason_phrase
    if isinstance(data, dict):
        # The API says {"code", "message"}; the OAuth server {"reason", "error"}.
        text = data.get("message") or data.get("reason") or data.get("error")
        if text:
            return str(text)[:300]
    return answer.reason_phrase


def _seconds(header: str | None) -> float | None:
    if not header:
        return None
    try:
        return max(float(header), 0.0)
    except ValueError:
        return None


def parse_instant(text: object) -> datetime | None:
    """A time as Zoom writes it (`2026-12-02T10:00:00Z`), in UTC; None when absent or unreadable."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
