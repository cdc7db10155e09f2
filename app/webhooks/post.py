"""The one module that speaks HTTP to webhook receivers: a signed POST to the address the
target check approved, redirects not followed (a 3xx is a failed attempt)."""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.webhooks.targets import resolve

# Kept of a receiver's answer: enough to tell an operator what went wrong.
ANSWER_CHARS = 500


@dataclass
class Answer:
    status: int
    text: str
    # The receiver's `Retry-After` header, as sent (seconds or an HTTP date), if any.
    retry_after: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address, whatever the host name resolves to by now."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address, verified against the host name (SNI and certificate)."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Answer:
    """POST `body` to `url`; the receiver's status and the start of its answer.

    Raises `TargetRefused` for a URL that may not be reached and `OSError` when the receiver
    cannot be reached or answer in time.
    """
    host, port, address = resolve(url)
    parts = urlsplit(url)
    kind = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = kind(host, port, address, timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": "reserve-webhooks"}
            | headers,
        )
        response = connection.getresponse()
        text = response.read(ANSWER_CHARS * 4).decode("utf-8", "replace")[:ANSWER_CHARS]
        return Answer(response.status, text, response.getheader("Retry-After"))
    except http.client.HTTPException as exc:
        raise OSError(f"bad answer: {exc!r}") from exc
    finally:
        connection.close()
