"""Where a written message goes: an SMTP server (`SmtpPost`), or `.eml` files when no server
is configured (`FilePost`); and how a refusal is told apart from a reason to retry."""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
import ssl
from pathlib import Path
from typing import Any, Protocol


class Transient(Exception):
    """Worth another try later. `connection` says the server itself is unreachable."""

    def __init__(self, message: str, *, connection: bool) -> None:
        super().__init__(message)
        self.connection = connection


class Permanent(Exception):
    """The server refused this message for good (a 5xx reply about it)."""


class Post(Protocol):
    def send(self, message_id: str, recipient: str, data: bytes) -> None: ...

    def close(self) -> None: ...


class SmtpPost:
    """One SMTP connection, opened on the first message and kept for the whole run."""

    def __init__(self, config: Any, envelope_from: str) -> None:
        self.host = config["MAIL_SERVER"]
        self.port = int(config["MAIL_PORT"])
        self.username = config.get("MAIL_USERNAME")
        self.password = config.get("MAIL_PASSWORD")
        self.use_tls = bool(config.get("MAIL_USE_TLS"))
        self.timeout = float(config["MAIL_TIMEOUT_SECONDS"])
        self.envelope_from = envelope_from
        self.smtp: smtplib.SMTP | None = None

    def send(self, message_id: str, recipient: str, data: bytes) -> None:
        smtp = self._connection()
        options = [] if recipient.isascii() else ["SMTPUTF8"]
        try:
            smtp.sendmail(self.envelope_from, [recipient], data, mail_options=options)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = exc.recipients.get(recipient, (0, b""))
            raise _refusal(code, reply) from None
        except smtplib.SMTPDataError as exc:
            raise _refusal(exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPSenderRefused as exc:
            # About our configuration, not this message: retried, then shown to staff.
            raise Transient(_reply(exc.smtp_code, exc.smtp_error), connection=False) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise Permanent(str(exc)) from None
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise Transient(f"{type(exc).__name__}: {exc}", connection=True) from None

    def _connection(self) -> smtplib.SMTP:
        if self.smtp is not None:
            return self.smtp
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
        except (smtplib.SMTPException, OSError) as exc:
            raise Transient(
                f"cannot reach {self.host}:{self.port}: {type(exc).__name__}: {exc}",
                connection=True,
            ) from None
        self.smtp = smtp
        return smtp

    def _drop(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.close()
            finally:
                self.smtp = None

    def close(self) -> None:
        if self.smtp is None:
            return
        with contextlib.suppress(smtplib.SMTPException, OSError):
            self.smtp.quit()
        self._drop()


class FilePost:
    """No server configured: each message becomes `<outbox dir>/<message-id>.eml`."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)

    def send(self, message_id: str, recipient: str, data: bytes) -> None:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            path = self.directory / f"{eml_name(message_id)}.eml"
            # Written aside and renamed, so a reader never sees half a message.
            partial = path.with_suffix(".partial")
            # Readable by the app's own user only: a message holds a person's details.
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
            os.replace(partial, path)
        except OSError as exc:
            raise Transient(f"cannot write {self.directory}: {exc}", connection=True) from None

    def close(self) -> None:
        pass


def eml_name(message_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9@._-]", "_", message_id.strip("<>"))


def _refusal(code: int, reply: bytes | str) -> Exception:
    text = _reply(code, reply)
    return Permanent(text) if code >= 500 else Transient(text, connection=False)


def _reply(code: int, reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return f"{code} {reply}"
