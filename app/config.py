"""Configuration from the environment (and a `.env` file), one class as the contract lists it."""

from __future__ import annotations

import os
import secrets
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import current_app

from app.embedding import parse_origins
from app.refusals import Refusal


def _flag(name: str, default: str) -> bool:
    return os.environ.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


class MissingSecretKey(RuntimeError):
    """Several processes are configured and SECRET_KEY is not set: the app does not start."""


def several_processes(config: Mapping[str, Any]) -> str | None:
    """Why this deployment runs more than one process that must share SECRET_KEY, or None.

    The rule: a database that is not SQLite (a server several hosts can reach), or
    WEB_CONCURRENCY above 1 (gunicorn's default for --workers, set by most hosts), or a
    gunicorn not started with a single worker: `-w 1`/`--workers 1` on its command line or in
    GUNICORN_CMD_ARGS (the project's gunicorn.conf.py runs 2 when nothing says otherwise).
    One process on SQLite may keep a generated key in `instance/`.
    """
    url = str(config.get("SQLALCHEMY_DATABASE_URI") or "")
    if not url.startswith("sqlite"):
        return f"the database is {url.split(':', 1)[0]}, not SQLite (DATABASE_URL)"
    concurrency = (os.environ.get("WEB_CONCURRENCY") or "").strip()
    if concurrency:
        try:
            if int(concurrency) > 1:
                return f"WEB_CONCURRENCY is {concurrency}"
        except ValueError:
            raise ValueError(
                f"WEB_CONCURRENCY must be a whole number, not {concurrency!r}"
            ) from None
    if (workers := _gunicorn_workers()) is not None and workers != 1:
        return f"gunicorn runs {workers or 'several'} workers"
    return None


def _gunicorn_workers() -> int | None:
    """The worker count a gunicorn command line (and GUNICORN_CMD_ARGS) asks for; 0 when it
    does not say (its config file decides, gunicorn.conf.py here: 2); None for no gunicorn."""
    if not Path(sys.argv[0]).name.startswith("gunicorn"):
        return None
    args = shlex.split(os.environ.get("GUNICORN_CMD_ARGS", "")) + sys.argv[1:]
    workers = 0
    for index, arg in enumerate(args):
        value = None
        if arg in ("-w", "--workers") and index + 1 < len(args):
            value = args[index + 1]
        elif arg.startswith("--workers="):
            value = arg.partition("=")[2]
        elif arg.startswith("-w") and arg[2:].isdigit():
            value = arg[2:]
        if value is not None and value.isdigit():
            workers = int(value)
    return workers


def settle_secret_key(config: Mapping[str, Any], instance_path: str) -> str:
    """SECRET_KEY as given (the environment or `create_app(config=...)`); without one, a key
    generated once and kept in `instance/secret_key`, unless several processes are configured:
    each would sign sessions, CSRF tokens and links with a key of its own, so the app refuses to
    start (MissingSecretKey, naming SECRET_KEY)."""
    if key := config.get("SECRET_KEY"):
        return str(key)
    if why := several_processes(config):
        raise MissingSecretKey(
            f"SECRET_KEY is not set, and several processes are configured ({why}). Each would "
            "sign sessions, CSRF tokens and links with a key of its own, so logins and forms "
            "would fail between them. Set SECRET_KEY to the same long random value for every "
            "web process and worker on every host, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
        )
    return _kept_secret_key(instance_path)


def _kept_secret_key(instance_path: str) -> str:
    """A key generated once and kept in `instance/`, for one process (or one host's few)."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: when two processes start at once, the first key written wins for both.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def stripe_configured() -> bool:
    """Whether paid events work here: both halves of Stripe's setup are given.

    The secret key lets us open Checkout and ask Stripe; the webhook secret lets us hear what
    was paid. With only one, money could be taken and never settled, so a half setup counts
    as none for all three that ask: publishing a paid event, the worker's payments job and
    `payments reconcile`.
    """
    config = current_app.config
    return bool(config.get("STRIPE_SECRET_KEY") and config.get("STRIPE_WEBHOOK_SECRET"))


def _origins(name: str, value: str | None) -> tuple[str, ...]:
    """The origins in `value` of the variable `name`; a bad one stops the app starting."""
    try:
        return parse_origins(value, field=name)
    except Refusal as exc:
        raise ValueError(f"{name}: {exc.message}") from None


def _positive(name: str, default: int) -> int:
    """A whole number above zero from the variable `name`; anything else stops the app starting
    with a message naming the variable."""
    value = (os.environ.get(name) or "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name}: must be a whole number above zero, not {value!r}")
    return int(value)


def _size(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


class Config:
    """Settings from the environment; `create_app(config=...)` overrides any of them.

    Every key the app reads is declared here with its default, and listed in the README's
    configuration tables (tests/test_config_keys.py checks both).
    """

    def __init__(self, instance_path: str) -> None:
        env = os.environ.get
        # Signs sessions, CSRF tokens and manage links. Without one, `settle_secret_key` (run by
        # the factory once every override is in) generates one kept in instance/secret_key, so
        # restarts keep everyone logged in; or refuses to start when several processes run.
        self.SECRET_KEY = env("SECRET_KEY") or None
        self.SQLALCHEMY_DATABASE_URI = env(
            "DATABASE_URL", "sqlite:///" + str(Path(instance_path) / "app.db")
        )
        self.SQLALCHEMY_ENGINE_OPTIONS: dict[str, object] = {"pool_pre_ping": True}
        # Each process holds up to pool + overflow connections to PostgreSQL: size them so
        # that every process of every host together stays under its max_connections (README,
        # "Production"). SQLite keeps SQLAlchemy's own pooling.
        if not self.SQLALCHEMY_DATABASE_URI.startswith("sqlite"):
            self.SQLALCHEMY_ENGINE_OPTIONS |= {
                "pool_size": _size("DATABASE_POOL_SIZE", 5),
                "max_overflow": int(env("DATABASE_MAX_OVERFLOW") or 10),
            }
        # When the database does not answer, requests get 503 with this `Retry-After`.
        self.OUTAGE_RETRY_AFTER_SECONDS = 30
        # The site's own address, for absolute links in emails, invites and API pages.
        self.BASE_URL = env("BASE_URL", "http://127.0.0.1:5000").rstrip("/")

        # SMTP delivery; without MAIL_SERVER each message is written under OUTBOX_DIR.
        self.MAIL_SERVER = env("MAIL_SERVER") or None
        self.MAIL_PORT = int(env("MAIL_PORT", "25"))
        self.MAIL_USERNAME = env("MAIL_USERNAME") or None
        self.MAIL_PASSWORD = env("MAIL_PASSWORD") or None
        self.MAIL_USE_TLS = _flag("MAIL_USE_TLS", "0")
        # The sender until an admin sets one in the console's settings.
        self.MAIL_DEFAULT_SENDER = env("MAIL_DEFAULT_SENDER", "Events <events@localhost>")
        self.OUTBOX_DIR = str(Path(instance_path) / "outbox")
        # How the worker sends the outbox: rows per batch; how long a claimed row is left to
        # its worker before another may take it (a worker killed outright leaves its batch
        # this long; one that fails gives it back at once); attempts before a row is `failed`;
        # the backoff between attempts (doubling from the base, capped); one SMTP call's
        # timeout.
        self.OUTBOX_BATCH_SIZE = _positive("OUTBOX_BATCH_SIZE", 100)
        self.OUTBOX_LEASE_SECONDS = _positive("OUTBOX_LEASE_SECONDS", 300)
        self.MAIL_MAX_ATTEMPTS = 16
        self.MAIL_RETRY_BASE_SECONDS = _positive("MAIL_RETRY_BASE_SECONDS", 30)
        self.MAIL_RETRY_CAP_SECONDS = 7200
        self.MAIL_TIMEOUT_SECONDS = 30
        # Queue a worker pass after each commit that added mail, so it goes out in moments
        # (False: the worker's minute task finds it).
        self.MAIL_WAKE_WORKER = True
        # The Huey queue's name: workers sharing one Redis must share it.
        self.HUEY_NAME = "reserve"

        # Stripe: without both keys a paid event cannot be published. STRIPE_API_BASE points
        # the official client at another server (the tests' local fake).
        self.STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY") or None
        self.STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET") or None
        self.STRIPE_API_BASE = env("STRIPE_API_BASE") or None
        # The Stripe client retries a call that failed on the network this many times.
        self.STRIPE_MAX_NETWORK_RETRIES = 2
        # How long a seat waits for its payment: a new registrant is sent to Stripe at once
        # (a Checkout Session lasts at least 30 minutes from its creation, a moment after the
        # registration); someone promoted from the waitlist first has to read the email.
        self.PAYMENT_HOLD_MINUTES = 31
        self.PROMOTED_HOLD_MINUTES = 24 * 60

        # Outgoing webhooks: receivers on private, loopback or link-local addresses are
        # refused unless this is set (a local receiver in development and the tests). The
        # worker sends this many deliveries per claim, leaves a claimed one to its worker this
        # long, waits this long for a receiver, retries a failure doubling from the base wait
        # (capped), and gives a delivery up after this many attempts. A subscription is
        # paused (its owner told) when a delivery is given up, or when this many attempts in a
        # row failed over at least this many minutes (a receiver that is down, not a blip).
        self.WEBHOOKS_ALLOW_PRIVATE = _flag("WEBHOOKS_ALLOW_PRIVATE", "0")
        self.WEBHOOKS_BATCH_SIZE = 50
        self.WEBHOOKS_LEASE_SECONDS = 300
        self.WEBHOOKS_TIMEOUT_SECONDS = 15
        self.WEBHOOKS_RETRY_BASE_SECONDS = 5
        self.WEBHOOKS_RETRY_CAP_SECONDS = 24 * 3600
        self.WEBHOOKS_MAX_ATTEMPTS = 10
        self.WEBHOOKS_PAUSE_AFTER_FAILURES = 50
        self.WEBHOOKS_PAUSE_AFTER_MINUTES = 15

        # Webinar platforms: the credentials an admin may also save in the console's
        # "Webinar platforms" settings, which win over these (app/platforms/credentials.py).
        # The API and OAuth bases point the connectors at another server (the tests' fakes).
        self.ZOOM_ACCOUNT_ID = env("ZOOM_ACCOUNT_ID") or None
        self.ZOOM_CLIENT_ID = env("ZOOM_CLIENT_ID") or None
        self.ZOOM_CLIENT_SECRET = env("ZOOM_CLIENT_SECRET") or None
        self.ZOOM_WEBHOOK_SECRET_TOKEN = env("ZOOM_WEBHOOK_SECRET_TOKEN") or None
        self.ZOOM_API_BASE = env("ZOOM_API_BASE") or "https://api.zoom.us/v2"
        self.ZOOM_OAUTH_BASE = env("ZOOM_OAUTH_BASE") or "https://zoom.us"
        self.GOTO_CLIENT_ID = env("GOTO_CLIENT_ID") or None
        self.GOTO_CLIENT_SECRET = env("GOTO_CLIENT_SECRET") or None
        self.GOTO_REFRESH_TOKEN = env("GOTO_REFRESH_TOKEN") or None
        self.GOTO_ORGANIZER_KEY = env("GOTO_ORGANIZER_KEY") or None
        self.GOTO_API_BASE = env("GOTO_API_BASE") or "https://api.getgo.com/G2W/rest/v2"
        self.GOTO_OAUTH_BASE = env("GOTO_OAUTH_BASE") or "https://authentication.logmeininc.com"

        # A webhook whose signed timestamp is further than this from our clock is refused.
        self.ZOOM_WEBHOOK_TOLERANCE_SECONDS = 300
        # The worker's platform calls: one call's timeout; registrants per claim and how long
        # a claimed one is left to its worker; retries doubling from the base wait (capped)
        # until the attempts run out. Without a `webinar.ended`, attendance is pulled this
        # many minutes after the scheduled end.
        self.PLATFORM_TIMEOUT_SECONDS = 15
        self.PLATFORM_BATCH_SIZE = 50
        self.PLATFORM_LEASE_SECONDS = 300
        self.PLATFORM_RETRY_BASE_SECONDS = 30
        self.PLATFORM_RETRY_CAP_SECONDS = 3600
        self.PLATFORM_MAX_ATTEMPTS = 12
        self.PLATFORM_PULL_AFTER_END_MINUTES = int(
            env("PLATFORM_PULL_AFTER_END_MINUTES", "60") or 60
        )

        # How long the registration API keeps an `Idempotency-Key` and the answer it was given.
        self.IDEMPOTENCY_KEY_HOURS = int(env("IDEMPOTENCY_KEY_HOURS", "24") or 24)
        # Double opt-in: how long a registrant has to open the link in the verification email
        # before their unverified registration (and the seat it holds) is given up.
        self.VERIFICATION_HOURS = int(env("VERIFICATION_HOURS", "24") or 24)
        # After the event: the post-event emails go at the worker's first pass after attendance
        # is applied, while attention is fresh; a team that wants time to correct a wrong
        # report first sets a delay. When no attendance comes: this many hours after the end.
        self.POST_EVENT_DELAY_MINUTES = int(env("POST_EVENT_DELAY_MINUTES", "0") or 0)
        self.POST_EVENT_FALLBACK_HOURS = int(env("POST_EVENT_FALLBACK_HOURS", "24") or 24)
        # Rate limits: in memory, or in Redis (shared by every process) when REDIS_URL is set,
        # which also carries the worker's queue.
        self.RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", "1")
        self.REDIS_URL = env("REDIS_URL") or None
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.RATELIMIT_HEADERS_ENABLED = True
        # How many proxies (a TLS terminator, a load balancer) stand in front of the app and
        # append to X-Forwarded-For. 0: none, the connecting address is the client's. Behind
        # a proxy without it, every visitor shares the proxy's address and its rate limits.
        self.PROXY_HOPS = int(env("PROXY_HOPS", "0") or 0)
        # How many registrations one client address may send through the API.
        self.API_REGISTRATION_RATE_LIMIT = "30/minute"
        # How many landing-page posts one client address may send (a Flask-Limiter rate).
        self.LANDING_RATE_LIMIT = env("LANDING_RATE_LIMIT", "10/minute")
        # How many login attempts per client address, and per email, the login page takes.
        self.LOGIN_RATE_LIMIT = "10 per minute"
        # Other sites that may frame the landing forms (`/e/<slug>/embed`) and call the
        # registration API from a browser (CORS): comma-separated `https://host[:port]`.
        self.EMBED_ORIGINS = _origins("EMBED_ORIGINS", env("EMBED_ORIGINS"))
        # A landing form posted sooner than this after it was served is a bot's (0: no check).
        self.FORM_MIN_FILL_SECONDS = float(env("FORM_MIN_FILL_SECONDS", "2") or 0)
        # Manage links stop working this many days after their event ended.
        self.MANAGE_LINK_DAYS_AFTER_EVENT = int(env("MANAGE_LINK_DAYS_AFTER_EVENT", "30") or 30)
        # How many "your registration link" emails one registration may get in an hour.
        self.MANAGE_LINK_EMAILS_PER_HOUR = 3
        # No request body beyond this (the largest is an attendance report): a bigger one is
        # refused with 413 before it is read, rather than spooled to disk. Each request gets
        # the smaller limit of its audience (app.inputs): anyone may post to a public form or
        # the registration call, so those read little; staff pages and calls a bit more;
        # Stripe's events are a few kilobytes; only attendance uploads get the whole ceiling.
        self.MAX_CONTENT_LENGTH = 50 * 1024 * 1024
        self.MAX_UPLOAD_BODY_BYTES = self.MAX_CONTENT_LENGTH
        self.MAX_PUBLIC_BODY_BYTES = _size("MAX_PUBLIC_BODY_BYTES", 64 * 1024)
        self.MAX_STAFF_BODY_BYTES = _size("MAX_STAFF_BODY_BYTES", 1024 * 1024)
        self.MAX_WEBHOOK_BODY_BYTES = 256 * 1024
        # A form's text fields are kept in memory: none beyond this, nor more parts than this.
        self.MAX_FORM_MEMORY_SIZE = 512 * 1024
        self.MAX_FORM_PARTS = 1000
        # Operations: `GET /metrics` answers loopback requests, and any carrying
        # `Authorization: Bearer <METRICS_TOKEN>` (unset: loopback only). LOG_FORMAT=json
        # writes one JSON object per log line (with the request id) instead of text.
        self.METRICS_TOKEN = env("METRICS_TOKEN") or None
        self.LOG_FORMAT = (env("LOG_FORMAT") or "text").strip().lower()
        # The console's session cookie: no script may read it, a post from another site does
        # not carry it, and it is Secure when the site is served over https.
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = self.BASE_URL.startswith("https://")
        # A form's CSRF token lasts as long as its session (the session may idle out first).
        self.WTF_CSRF_TIME_LIMIT = None
        # A console session nobody used for this long ends (app/auth/sessions.py).
        self.SESSION_IDLE_HOURS = float(env("SESSION_IDLE_HOURS", "12") or 12)
        # How long a new member of staff's emailed "set your password" link works, and a
        # "forgot password" link (short: whoever reads that mailbox can take the account).
        self.STAFF_INVITATION_HOURS = float(env("STAFF_INVITATION_HOURS", "24") or 24)
        self.PASSWORD_RESET_HOURS = float(env("PASSWORD_RESET_HOURS", "1") or 1)
        # flask-smorest serves the OpenAPI document the API validates with.
        self.API_TITLE = "Event registration API"
        self.API_VERSION = "v1"
        self.OPENAPI_VERSION = "3.0.3"
        self.OPENAPI_URL_PREFIX = "/api/v1"
        self.OPENAPI_JSON_PATH = "openapi.json"
        # Privacy: how long a registrant's emailed "erase my data" link works; how long data
        # is kept (people whose every event ended this long ago, double opt-ins never
        # confirmed, sent emails' bodies, finished webhook deliveries); erased per pass.
        self.ERASURE_LINK_HOURS = float(env("ERASURE_LINK_HOURS", "24") or 24)
        self.RETAIN_REGISTRATIONS_DAYS = int(env("RETAIN_REGISTRATIONS_DAYS", "730") or 730)
        self.RETAIN_UNCONFIRMED_DAYS = int(env("RETAIN_UNCONFIRMED_DAYS", "30") or 30)
        self.RETAIN_OUTBOX_BODY_DAYS = int(env("RETAIN_OUTBOX_BODY_DAYS", "90") or 90)
        self.RETAIN_DELIVERY_LOG_DAYS = int(env("RETAIN_DELIVERY_LOG_DAYS", "90") or 90)
        self.RETENTION_BATCH = 200
        # The marketing-consent sentence shown on the form and stored with each consent.
        self.CONSENT_TEXT = env(
            "CONSENT_TEXT",
            "Yes, send me news about upcoming events and products. I can unsubscribe at any time.",
        )
