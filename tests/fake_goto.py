"""A local fake of GoTo Webinar on loopback: its OAuth token endpoint and the v2 REST calls the
connector makes (registrants, sessions page by page, attendees), in GoTo's request and answer
shapes, with switches for an outage (503) and throttling (429 with Retry-After)."""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

CLIENT_ID = "goto-client-id"
CLIENT_SECRET = "goto-client-secret"
REFRESH_TOKEN = "goto-refresh-token-1"
ORGANIZER_KEY = "7000000000000000001"
API_PREFIX = "/G2W/rest/v2"
MAX_PAGE_SIZE = 200

_WEBINAR = re.compile(r"^/organizers/([^/]+)/webinars/([^/]+)(/.*)?$")


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: dict[str, str]


@dataclass
class Webinar:
    registrants: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Each session: its sessionInfoResource fields and its attendees (GoTo's answer shape).
    sessions: list[dict[str, Any]] = field(default_factory=list)


class Answer(Exception):
    """An answer other than the happy one: status, JSON body and headers."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


class FakeGoTo:
    def __init__(self) -> None:
        self.refresh_token = REFRESH_TOKEN
        # Issue a new refresh token with each refresh, as GoTo may.
        self.rotate_refresh_tokens = False
        self.expires_in = 3600
        # Put the organizer key in token answers (the legacy host did; the new one may not).
        self.tells_organizer_key = True
        self.access_tokens: set[str] = set()
        self.token_grants: list[dict[str, str]] = []
        self.codes: dict[str, str] = {}  # authorization code -> redirect_uri it was issued for
        self.webinars: dict[str, Webinar] = {}
        self.calls: list[Call] = []
        self.down = False
        self._throttled: list[str | None] = []
        self._keys = itertools.count(9_100_000_000_000_000_001)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def do_DELETE(self) -> None:
                fake._handle(self, "DELETE")

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.api_base = self.url + API_PREFIX
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> FakeGoTo:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # What a test sets up.

    def webinar(self, key: str) -> Webinar:
        with self._lock:
            return self.webinars.setdefault(key, Webinar())

    def add_session(
        self, webinar_key: str, start: str, end: str, attendees: list[dict[str, Any]]
    ) -> str:
        session_key = str(next(self._keys))
        self.webinar(webinar_key).sessions.append(
            {
                "sessionKey": session_key,
                "webinarKey": webinar_key,
                "startTime": start,
                "endTime": end,
                "registrantsAttended": len(attendees),
                "attendees": attendees,
            }
        )
        return session_key

    def throttle(self, times: int, retry_after: str | None = "7") -> None:
        """Answer the next `times` requests 429, with this Retry-After (None: without one)."""
        with self._lock:
            self._throttled.extend([retry_after] * times)

    def issue_code(self, redirect_uri: str) -> str:
        """The code GoTo would send to the callback after the organizer consents."""
        code = "code-" + secrets.token_urlsafe(8)
        self.codes[code] = redirect_uri
        return code

    def api_calls(self, method: str | None = None) -> list[Call]:
        return [
            call
            for call in self.calls
            if call.path.startswith(API_PREFIX) and method in (None, call.method)
        ]

    # The server.

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(request.path)
        query = dict(parse_qsl(parts.query))
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        with self._lock:
            self.calls.append(Call(method, parts.path, query))
            throttled = self._throttled.pop(0) if self._throttled else False
        status, body, headers = 200, None, {}
        try:
            if self.down:
                raise Answer(503, {"errorCode": "ServiceUnavailable", "description": "Down"})
            if throttled is not False:
                raise Answer(
                    429,
                    {"errorCode": "TooManyRequests", "description": "Rate limit exceeded"},
                    {"Retry-After": throttled} if throttled else {},
                )
            if method == "POST" and parts.path == "/oauth/token":
                body = self._token(request, dict(parse_qsl(raw.decode())))
            elif parts.path.startswith(API_PREFIX):
                self._check_bearer(request)
                status, body = self._api(request, method, parts.path[len(API_PREFIX) :], query, raw)
            else:
                raise Answer(404, {"errorCode": "NotFound", "description": "No such path"})
        except Answer as answer:
            status, body, headers = answer.status, answer.body, answer.headers
        data = b"" if body is None else json.dumps(body).encode()
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name, value)
        if data:
            request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def _token(self, request: BaseHTTPRequestHandler, form: dict[str, str]) -> dict[str, Any]:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            raise Answer(401, {"error": "invalid_client", "error_description": "Bad client"})
        with self._lock:
            self.token_grants.append(form)
            grant = form.get("grant_type")
            if grant == "refresh_token":
                if form.get("refresh_token") != self.refresh_token:
                    raise Answer(
                        400,
                        {"error": "invalid_grant", "error_description": "Invalid refresh token"},
                    )
            elif grant == "authorization_code":
                if self.codes.pop(form.get("code", ""), None) != form.get("redirect_uri"):
                    raise Answer(
                        400,
                        {"error": "invalid_grant", "error_description": "Invalid auth code"},
                    )
            else:
                raise Answer(400, {"error": "unsupported_grant_type"})
            if self.rotate_refresh_tokens or grant == "authorization_code":
                self.refresh_token = "goto-refresh-" + secrets.token_urlsafe(12)
            access = "goto-access-" + secrets.token_urlsafe(12)
            self.access_tokens.add(access)
        answer: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "refresh_token": self.refresh_token,
            "expires_in": self.expires_in,
            "account_key": "6000000000000000001",
            "email": "organizer@example.com",
        }
        if self.tells_organizer_key:
            answer["organizer_key"] = ORGANIZER_KEY
        return answer

    def _check_bearer(self, request: BaseHTTPRequestHandler) -> None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.access_tokens:
            raise Answer(401, {"int_err_code": "InvalidToken", "msg": "Invalid token passed"})

    def _api(
        self,
        request: BaseHTTPRequestHandler,
        method: str,
        path: str,
        query: dict[str, str],
        raw: bytes,
    ) -> tuple[int, Any]:
        matched = _WEBINAR.match(path)
        if not matched:
            raise Answer(404, {"errorCode": "NotFound", "description": "No such resource"})
        organizer, webinar_key, rest = matched.group(1), matched.group(2), matched.group(3) or ""
        if organizer != ORGANIZER_KEY:
            raise Answer(403, {"errorCode": "Forbidden", "description": "Not your organizer"})
        webinar = self.webinars.get(webinar_key)
        if webinar is None:
            raise Answer(404, {"errorCode": "NotFound", "description": "Webinar not found"})
        if rest == "/registrants" and method == "POST":
            return self._add_registrant(request, webinar, json.loads(raw or b"{}"))
        if rest == "/registrants" and method == "GET":
            return 200, [_public(item) for item in webinar.registrants.values()]
        if (found := re.match(r"^/registrants/([^/]+)$", rest)) and method == "DELETE":
            if webinar.registrants.pop(found.group(1), None) is None:
                raise Answer(404, {"errorCode": "NotFound", "description": "No such registrant"})
            return 204, None
        if rest == "/sessions" and method == "GET":
            return 200, _sessions_page(webinar, query)
        if (found := re.match(r"^/sessions/([^/]+)/attendees$", rest)) and method == "GET":
            for session in webinar.sessions:
                if session["sessionKey"] == found.group(1):
                    return 200, session["attendees"]
            raise Answer(404, {"errorCode": "NotFound", "description": "Session not found"})
        raise Answer(405, {"errorCode": "MethodNotAllowed", "description": "Not allowed"})

    def _add_registrant(
        self, request: BaseHTTPRequestHandler, webinar: Webinar, body: dict[str, Any]
    ) -> tuple[int, Any]:
        if request.headers.get("Accept") != "application/json":
            # The v1.1 registrant type keeps only the three basic fields.
            raise Answer(406, {"errorCode": "NotAcceptable", "description": "Accept JSON"})
        for name in ("firstName", "lastName", "email"):
            if not body.get(name):
                raise Answer(
                    400, {"errorCode": "InvalidRequest", "description": f"{name} required"}
                )
        with self._lock:
            for existing in webinar.registrants.values():
                if existing["email"].lower() == body["email"].lower():
                    raise Answer(
                        409,
                        {
                            "errorCode": "DuplicateRegistrant",
                            "description": "The user is already registered",
                        },
                    )
            key = str(next(self._keys))
            webinar.registrants[key] = {
                **body,
                "registrantKey": int(key),
                "joinUrl": f"https://global.gotowebinar.com/join/{key}",
                "status": "APPROVED",
            }
        return 201, {"registrantKey": int(key), "joinUrl": webinar.registrants[key]["joinUrl"]}


def _public(registrant: dict[str, Any]) -> dict[str, Any]:
    """A registrant as GoTo's list shows it."""
    names = ("registrantKey", "firstName", "lastName", "email", "status", "joinUrl")
    return {name: registrant.get(name) for name in names}


def _sessions_page(webinar: Webinar, query: dict[str, str]) -> dict[str, Any]:
    page, size = int(query.get("page", 0)), int(query.get("size", 20))
    if not 0 < size <= MAX_PAGE_SIZE or page < 0:
        raise Answer(400, {"errorCode": "InvalidRequest", "description": "Bad page or size"})
    chosen = webinar.sessions[page * size : (page + 1) * size]
    total = len(webinar.sessions)
    return {
        "_embedded": {
            "sessionInfoResources": [
                {key: value for key, value in item.items() if key != "attendees"} for item in chosen
            ]
        },
        "page": {
            "size": size,
            "totalElements": total,
            "totalPages": -(-total // size),
            "number": page,
        },
    }


@pytest.fixture
def fake_goto() -> Iterator[FakeGoTo]:
    """A running fake GoTo Webinar for one test."""
    fake = FakeGoTo().start()
    yield fake
    fake.stop()
