"""A real SMTP server for tests: aiosmtpd on a free loopback port, keeping every message it
accepts. Stop it and start it again (same port) to play an outage; give it a delay to make a
worker's batch slow enough to interrupt, or an `on_accept` to break something the moment a
message is accepted.

    def test_something(app, smtp_server):
        app.config.update(smtp_server.mail_config)
        ...
        assert smtp_server.received[0].message["Subject"] == "…"
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    """One accepted message: the envelope and the exact bytes of the DATA."""

    envelope_from: str
    recipients: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, _o: Any):  # type: ignore[no-untyped-def]
        if address.lower() in self.sink.refused:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any):  # type: ignore[no-untyped-def]
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        count = self.sink._keep(
            Received(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.original_content))
        )
        if self.sink.on_accept is not None:
            # Before the 250 goes back: what it does has happened when the sender hears "sent".
            self.sink.on_accept(count)
        return "250 2.0.0 Accepted"


class SmtpSink:
    """The server and what it received; `received` only grows."""

    def __init__(self, delay: float = 0.0) -> None:
        self.port = _free_port()
        self.delay = delay
        self.refused: set[str] = set()
        self.received: list[Received] = []
        # Called with the number of messages received so far, as each is accepted (a test's
        # fault to inject at that moment).
        self.on_accept: Callable[[int], None] | None = None
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def mail_config(self) -> dict[str, Any]:
        """App settings that point SMTP delivery at this server."""
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.port, "MAIL_USE_TLS": False}

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is None:
            controller = Controller(
                _Handler(self), hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=True
            )
            controller.start()
            self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def _keep(self, received: Received) -> int:
        with self._lock:
            self.received.append(received)
            return len(self.received)

    def to(self, address: str) -> list[EmailMessage]:
        """Messages received for `address`, in order of arrival."""
        with self._lock:
            found = [r for r in self.received if address.lower() in map(str.lower, r.recipients)]
        return [r.message for r in found]

    def message_ids(self) -> list[str]:
        with self._lock:
            return [r.message_id for r in self.received]

    def wait_for(self, count: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.received)} messages arrived, waited for {count}")
            time.sleep(0.02)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()
