"""The erasure log: who erased a person and when, named by the hash of their address only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model, UTCDateTime, utcnow

ERASURE_SOURCES = ("api", "console", "cli", "registrant", "retention")


class Erasure(Model):
    """One erasure. It holds no personal data: the address is kept as its SHA-256, so the
    log can answer "was this address erased?" without telling whose it was."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_sha256: Mapped[str] = mapped_column(String(64), index=True)
    # The staff user's email, "registrant" (their confirmed request) or "retention".
    actor: Mapped[str] = mapped_column(String(254))
    source: Mapped[str] = mapped_column(String(16))
    # Rows touched, by eraser name.
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
