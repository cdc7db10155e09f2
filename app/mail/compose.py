"""Building an email: the sender, the text and HTML bodies from templates, and the MIME tree.

A message with an invite is shaped the way Gmail, Outlook and Apple Mail expect:

    multipart/mixed
      multipart/alternative
        text/plain
        text/html
        text/calendar; charset=UTF-8; method=REQUEST|CANCEL   (the same as the file's METHOD)
      application/ics  invite.ics (attachment)

The calendar parts are base64-encoded bytes, so the CRLF line ends RFC 5545 requires survive
any mail system (a text part would be rewritten to the local line ending).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from email import charset, encoders, policy
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr

from flask import render_template

from app.sender import Sender

_SPACE = re.compile(r"\s+")
# CRLF everywhere, as SMTP sends it, with the classic (compat32) header handling.
_WIRE = policy.compat32.clone(linesep="\r\n")
_UTF8 = charset.Charset("utf-8")
_UTF8.body_encoding = charset.QP


def new_message_id(domain: str) -> str:
    # Short enough that "Message-ID: <…>" is never folded onto a second line, which some
    # parsers (the stdlib's among them) read back with a leading space.
    return f"<{secrets.token_hex(12)}@{domain}>"


@dataclass(frozen=True)
class Letter:
    """What one message says: a subject, the same words as text and HTML, maybe an invite."""

    subject: str
    text: str
    html: str
    invite: bytes | None = None
    method: str | None = None
    # A message the person may refuse (not one their registration needs): the one-click
    # unsubscribe address its List-Unsubscribe headers carry (RFC 2369, RFC 8058).
    unsubscribe: str | None = None


def write(template: str, subject: str, **context: object) -> tuple[str, str, str]:
    """Render `mail/<template>.txt` and `.html` (escaped) with `context`; returns all three."""
    subject = one_line(subject)
    context["subject"] = subject
    text = render_template(f"mail/{template}.txt", **context)
    html = render_template(f"mail/{template}.html", **context)
    return subject, text, html


def one_line(text: str) -> str:
    # A header may not hold a line break (that would be header injection).
    return _SPACE.sub(" ", text).strip()


def compose(
    letter: Letter, *, sender: Sender, to_email: str, to_name: str, message_id: str
) -> bytes:
    """The message as sent on the wire (CRLF), without a Date: `dated` adds it when sending.

    Built with the stdlib's classic MIME classes: they are twice as fast as EmailMessage
    (whose header parsing dominates the cost of a fan-out) and leave the bytes of a base64
    part exactly as given.
    """
    message = MIMEMultipart("mixed" if letter.invite is not None else "alternative", _boundary())
    message["From"] = _address(sender.name, sender.email)
    message["To"] = _address(to_name, to_email)
    # The stdlib takes a Header as a value (compat32); typeshed types the value as str only.
    message["Subject"] = _header(letter.subject)  # type: ignore[assignment]
    message["Message-ID"] = message_id
    # Asks auto-responders (out-of-office) not to answer a machine.
    message["Auto-Submitted"] = "auto-generated"
    if letter.unsubscribe is not None:
        message["List-Unsubscribe"] = f"<{letter.unsubscribe}>"
        # A mail client may POST "List-Unsubscribe=One-Click" to it, with no cookie or form.
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    alternative = message if letter.invite is None else MIMEMultipart("alternative", _boundary())
    alternative.attach(_text(letter.text, "plain"))
    alternative.attach(_text(letter.html, "html"))
    if letter.invite is not None:
        if letter.method not in ("REQUEST", "CANCEL"):
            raise ValueError("an invite needs its METHOD (REQUEST or CANCEL)")
        inline = MIMEBase("text", "calendar", charset="UTF-8", method=letter.method)
        inline.set_payload(letter.invite)
        encoders.encode_base64(inline)
        alternative.attach(inline)
        message.attach(alternative)
        # Outlook reads the inline part; other clients offer the attachment to import.
        attachment = MIMEBase("application", "ics", name="invite.ics")
        attachment.add_header("Content-Disposition", "attachment", filename="invite.ics")
        attachment.set_payload(letter.invite)
        encoders.encode_base64(attachment)
        message.attach(attachment)
    for part in message.walk():
        if part is not message:
            # The classic classes put MIME-Version on every part; it belongs on the top only.
            del part["MIME-Version"]
    return message.as_bytes(policy=_WIRE)


def dated(content: bytes, moment: datetime) -> bytes:
    """The stored message with its Date header: the time it is actually sent."""
    return f"Date: {format_datetime(moment)}\r\n".encode() + content


def _boundary() -> str:
    # Random, so the generator need not search the body for a clash (a regex per message).
    return f"=_{secrets.token_hex(16)}"


def _address(name: str, email: str) -> str:
    return formataddr((one_line(name), email), charset="utf-8")


def _header(text: str) -> str | Header:
    return text if text.isascii() else Header(text, "utf-8")


def _text(body: str, subtype: str) -> MIMEText:
    # Quoted-printable keeps the text readable in the source and in spam filters' eyes.
    # MIMEText hands its charset to set_payload, which takes a Charset; typeshed says str only.
    return MIMEText(body, subtype, _UTF8)  # type: ignore[arg-type]
