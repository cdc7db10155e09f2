"""A local fake of Zoom's API and OAuth server on loopback, speaking the documented shapes
(Server-to-Server OAuth, webinar registrants, the participants and Q&A reports with
`next_page_token`), and able to sign and post Zoom webhooks to the app.

    fake = FakeZoom().start()
    app.config.update(fake.settings)
    fake.down = True            # every API call answers 503
    fake.throttle(120)          # the next API call answers 429 with Retry-After: 120
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

ACCOUNT_ID = "acct_fake"
CLIENT_ID = "client_fake"
CLIENT_SECRET = "secret_fake"
WEBHOOK_SECRET = "zoom_webhook_secret_fake"


@dataclass
class Webinar:
    id: str
    registrants: dict[str, dict[str, Any]] = field(default_factory=dict)  # by registrant id
    participants: list[dict[str, Any]] = field(default_factory=list)
    questions: list[dict[str, Any]] = field(default_factory=list)


class FakeZoom:
    def __init__(self) -> None:
        self.webinars: dict[str, Webinar] = {}
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.calls: list[tuple[str, str]] = []  # (method, path) of every API call answered
        self.cancelled: list[tuple[str, str]] = []  # (webinar id, registrant id)
        self.down = False
        self._throttled: list[float] = []
        self._pages: dict[str, tuple[str, int]] = {}  # next_page_token -> (webinar, offset)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._answer(self, "GET")

            def do_POST(self) -> None:
                fake._answer(self, "POST")

            def do_PUT(self) -> None:
                fake._answer(self, "PUT")

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def settings(self) -> dict[str, Any]:
        return {
            "ZOOM_ACCOUNT_ID": ACCOUNT_ID,
            "ZOOM_CLIENT_ID": CLIENT_ID,
            "ZOOM_CLIENT_SECRET": CLIENT_SECRET,
            "ZOOM_WEBHOOK_SECRET_TOKEN": WEBHOOK_SECRET,
            "ZOOM_API_BASE": self.url + "/v2",
            "ZOOM_OAUTH_BASE": self.url,
        }

    def start(self) -> FakeZoom:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def webinar(self, webinar_id: str) -> Webinar:
        with self._lock:
            return self.webinars.setdefault(webinar_id, Webinar(webinar_id))

    def throttle(self, retry_after: float) -> None:
        """Answer the next API call with 429 and `Retry-After: retry_after`."""
        with self._lock:
            self._throttled.append(retry_after)

    def revoke_tokens(self) -> None:
        """Forget every token issued (Zoom revoked them): the next call gets 401."""
        with self._lock:
            self.tokens.clear()

    def joined(
        self,
        webinar_id: str,
        email: str,
        seconds: int,
        *,
        join_time: str = "2030-01-01T10:00:00Z",
        leave_time: str = "2030-01-01T11:00:00Z",
        name: str = "",
    ) -> None:
        """One row of the participants report (a rejoin is another row for the same email)."""
        webinar = self.webinar(webinar_id)
        registrant = next((r for r in webinar.registrants.values() if r["email"] == email), None)
        webinar.participants.append(
            {
                "id": secrets.token_hex(6),
                "user_id": str(len(webinar.participants) + 1),
                "name": name or email.split("@")[0],
                "user_email": email,
                "join_time": join_time,
                "leave_time": leave_time,
                "duration": seconds,
                "registrant_id": registrant["id"] if registrant else "",
                "status": "in_meeting",
                "failover": False,
            }
        )

    def asked(self, webinar_id: str, email: str, *questions: str) -> None:
        self.webinar(webinar_id).questions.append(
            {
                "name": email.split("@")[0],
                "email": email,
                "question_details": [{"question": q, "answer": "Thanks!"} for q in questions],
            }
        )

    # Webhooks ------------------------------------------------------------------------------

    @staticmethod
    def sign(body: bytes, timestamp: int, secret: str = WEBHOOK_SECRET) -> str:
        message = f"v0:{timestamp}:".encode() + body
        return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()

    def webhook(
        self,
        event: str,
        obj: dict[str, Any],
        *,
        timestamp: int | None = None,
        secret: str = WEBHOOK_SECRET,
    ) -> tuple[bytes, dict[str, str]]:
        """A delivery's raw body and headers, signed as Zoom signs them."""
        body = json.dumps(
            {
                "event": event,
                "event_ts": int(time.time() * 1000),
                "payload": {"account_id": ACCOUNT_ID, "object": obj},
            }
        ).encode()
        return body, self.headers_for(body, timestamp=timestamp, secret=secret)

    def headers_for(
        self, body: bytes, *, timestamp: int | None = None, secret: str = WEBHOOK_SECRET
    ) -> dict[str, str]:
        moment = int(time.time()) if timestamp is None else timestamp
        return {
            "Content-Type": "application/json",
            "x-zm-request-timestamp": str(moment),
            "x-zm-signature": self.sign(body, moment, secret),
        }

    def ended(
        self, webinar_id: str, end_time: str = "2030-01-01T11:00:00Z"
    ) -> tuple[bytes, dict[str, str]]:
        return self.webhook(
            "webinar.ended",
            {
                "id": webinar_id,
                "uuid": base64.b64encode(webinar_id.encode()).decode(),
                "host_id": "host_fake",
                "topic": "Launch webinar",
                "start_time": "2030-01-01T10:00:00Z",
                "end_time": end_time,
            },
        )

    # The server ----------------------------------------------------------------------------

    def _answer(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        status, body, headers = self._route(method, parts.path, query, raw, handler.headers)
        payload = b"" if body is None else json.dumps(body).encode()
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        if payload:
            handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _route(
        self, method: str, path: str, query: dict[str, str], raw: bytes, headers: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if method == "POST" and path == "/oauth/token":
            return self._token(query, headers.get("Authorization") or "")
        if not path.startswith("/v2/"):
            return 404, {"code": 404, "message": "Not found"}, {}
        with self._lock:
            if self.down:
                return 503, {"code": 503, "message": "Service unavailable"}, {}
            if self._throttled:
                wait = self._throttled.pop(0)
                return (
                    429,
                    {"code": 429, "message": "You have reached the maximum per-second rate limit."},
                    {"Retry-After": f"{wait:g}"},
                )
            bearer = (headers.get("Authorization") or "").removeprefix("Bearer ")
            if bearer not in self.tokens:
                return 401, {"code": 124, "message": "Invalid access token."}, {}
            self.calls.append((method, path))
        pieces = path.removeprefix("/v2/").split("/")
        registrants = pieces[:1] == ["webinars"] and pieces[2:3] == ["registrants"]
        report = pieces[:2] == ["report", "webinars"] and len(pieces) == 4
        with self._lock:
            if registrants and len(pieces) == 3 and method == "POST":
                return self._add(pieces[1], json.loads(raw or b"{}"))
            if registrants and pieces[3:] == ["status"] and method == "PUT":
                return self._status(pieces[1], json.loads(raw or b"{}"))
            if report and method == "GET" and pieces[3] == "participants":
                return self._participants(pieces[2], query)
            if report and method == "GET" and pieces[3] == "qa":
                return self._qa(pieces[2])
        return 404, {"code": 404, "message": "Not found"}, {}

    def _token(self, query: dict[str, str], authorization: str) -> tuple[int, Any, dict[str, str]]:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if authorization != f"Basic {expected}":
            return (
                401,
                {"reason": "Invalid client_id or client_secret", "error": "invalid_client"},
                {},
            )
        if (
            query.get("grant_type") != "account_credentials"
            or query.get("account_id") != ACCOUNT_ID
        ):
            return 400, {"reason": "Invalid request", "error": "invalid_request"}, {}
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.tokens.add(token)
            self.token_requests += 1
        return (
            200,
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": 3599,
                "scope": "webinar:write:admin report:read:admin",
            },
            {},
        )

    def _add(self, webinar_id: str, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        webinar = self.webinars.get(webinar_id)
        if webinar is None:
            return 404, {"code": 3001, "message": f"Webinar does not exist: {webinar_id}."}, {}
        if not body.get("email") or not body.get("first_name"):
            return 400, {"code": 300, "message": "Validation Failed."}, {}
        registrant_id = secrets.token_urlsafe(12)
        webinar.registrants[registrant_id] = {
            "id": registrant_id,
            "email": body["email"],
            "first_name": body["first_name"],
            "last_name": body.get("last_name", ""),
            "status": "approved",
        }
        return (
            201,
            {
                "id": int(webinar_id) if webinar_id.isdigit() else webinar_id,
                "registrant_id": registrant_id,
                "join_url": f"{self.url}/w/{webinar_id}?tk={registrant_id}",
                "topic": "Launch webinar",
                "start_time": "2030-01-01T10:00:00Z",
                "occurrences": [],
            },
            {},
        )

    def _status(self, webinar_id: str, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        webinar = self.webinars.get(webinar_id)
        if webinar is None:
            return 404, {"code": 3001, "message": f"Webinar does not exist: {webinar_id}."}, {}
        if body.get("action") not in ("approve", "deny", "cancel"):
            return 400, {"code": 300, "message": "Invalid action."}, {}
        people = body.get("registrants") or []
        if not people or len(people) > 30:
            return 400, {"code": 300, "message": "Between 1 and 30 registrants."}, {}
        for person in people:
            registrant = webinar.registrants.get(str(person.get("id")))
            if registrant is not None and body["action"] == "cancel":
                registrant["status"] = "cancelled"
                self.cancelled.append((webinar_id, registrant["id"]))
        return 204, None, {}

    def _participants(
        self, webinar_id: str, query: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        webinar = self.webinars.get(webinar_id)
        if webinar is None:
            return 404, {"code": 3001, "message": "This webinar does not exist."}, {}
        size = min(int(query.get("page_size") or 30), 300)
        offset = 0
        if token := query.get("next_page_token"):
            if token not in self._pages:
                return (
                    400,
                    {"code": 300, "message": "The next page token is invalid or expired."},
                    {},
                )
            _webinar, offset = self._pages.pop(token)
        rows = webinar.participants[offset : offset + size]
        with_registrant = query.get("include_fields") == "registrant_id"
        page = [
            row if with_registrant else {k: v for k, v in row.items() if k != "registrant_id"}
            for row in rows
        ]
        following = ""
        if offset + size < len(webinar.participants):
            following = secrets.token_urlsafe(16)
            self._pages[following] = (webinar_id, offset + size)
        total = len(webinar.participants)
        return (
            200,
            {
                "page_count": (total + size - 1) // size,
                "page_size": size,
                "total_records": total,
                "next_page_token": following,
                "participants": page,
            },
            {},
        )

    def _qa(self, webinar_id: str) -> tuple[int, Any, dict[str, str]]:
        webinar = self.webinars.get(webinar_id)
        if webinar is None:
            return 404, {"code": 3001, "message": "This webinar does not exist."}, {}
        return (
            200,
            {
                "id": webinar_id,
                "start_time": "2030-01-01T10:00:00Z",
                "questions": webinar.questions,
            },
            {},
        )


@pytest.fixture
def fake_zoom() -> Iterator[FakeZoom]:
    fake = FakeZoom().start()
    yield fake
    fake.stop()
