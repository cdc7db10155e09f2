"""Connecting a GoTo organizer through GoTo's consent page: the link out with a signed state,
and the code that comes back exchanged for the refresh token and organizer key we store.

The state names the admin who started and a nonce kept in their session, and expires: a
callback from another browser, another admin or a forged link is refused before GoTo is asked.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.db import db
from app.platforms.base import PlatformError
from app.platforms.credentials import goto_credentials, store
from app.platforms.goto import TokenAnswer, authorize_url, exchange_code

# Long enough to log in to GoTo and consent, short enough that an old link is worthless.
STATE_MAX_AGE_SECONDS = 15 * 60


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="goto-oauth-state")


def consent_url(redirect_uri: str, user_id: int, nonce: str) -> str:
    """Where to send the admin to consent; refused while GoTo's client is not set up."""
    credentials = goto_credentials()
    if not credentials.client_id or not credentials.client_secret:
        raise PlatformError("Save GoTo's client id and secret first.", permanent=True)
    state = _signer().dumps({"user": user_id, "nonce": nonce})
    return authorize_url(credentials, redirect_uri, state)


def state_is_valid(state: str, user_id: int, nonce: str | None) -> bool:
    """True when the state is ours, unexpired, and was made for this admin and session."""
    try:
        said = _signer().loads(state, max_age=STATE_MAX_AGE_SECONDS)
    except BadSignature:
        return False
    return (
        isinstance(said, dict)
        and said.get("user") == user_id
        and nonce is not None
        and said.get("nonce") == nonce
    )


def connect(code: str, redirect_uri: str) -> TokenAnswer:
    """Exchange the code and keep the organizer's refresh token and key (when GoTo names it;
    otherwise the one saved, or entered by hand, stays)."""
    answer = exchange_code(goto_credentials(), code, redirect_uri)
    if not answer.refresh_token:
        raise PlatformError("GoTo's answer had no refresh token; nothing was saved.")
    changes = {"GOTO_REFRESH_TOKEN": answer.refresh_token}
    if answer.organizer_key:
        changes["GOTO_ORGANIZER_KEY"] = answer.organizer_key
    store(changes)
    db.session.commit()
    return answer
