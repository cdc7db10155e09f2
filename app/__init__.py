"""The application factory: configuration, extensions and one blueprint per package."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dotenv import load_dotenv
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import access_log, inputs, languages, operations, outage, security
from app.config import Config, settle_secret_key
from app.extensions import csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    load_dotenv(ROOT / ".env")
    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get("INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=instance_path or str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_object(Config(app.instance_path))
    if config:
        app.config.update(config)
    if str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        # The pool sizes were chosen for the environment's PostgreSQL; an override that swaps
        # in SQLite (a test, a one-off command) keeps SQLite's own pooling, which takes none.
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        for name in ("pool_size", "max_overflow"):
            options.pop(name, None)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    app.config["SECRET_KEY"] = settle_secret_key(app.config, app.instance_path)

    if hops := app.config.get("PROXY_HOPS"):
        # The client's address and scheme as the trusted proxies saw them (rate limits,
        # Secure cookies); headers from further out are not believed.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    # First: every request gets its id and its clock, even one the door refuses.
    operations.init_app(app)
    # Then: the door sets body limits before any extension's hook reads a form.
    inputs.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    security.init_app(app)
    access_log.init_app(app)
    outage.init_app(app)
    languages.init_app(app)

    # Import models so metadata (and Alembic) sees every table.
    from app import (
        auth,
        brand,
        cli,
        followup,
        health,
        mail,
        models,  # noqa: F401
        pages,
        payments,
        platforms,
        privacy,
        registrations,
        webhooks,
        worker,
    )
    from app.admin import bp as admin_bp
    from app.api import register_api
    from app.auth import bp as auth_bp
    from app.events import bp as events_bp
    from app.events import models as event_models  # noqa: F401
    from app.followup import bp as followup_bp
    from app.followup import models as followup_models  # noqa: F401
    from app.payments import bp as payments_bp
    from app.payments import models as payment_models  # noqa: F401
    from app.platforms import bp as platforms_bp
    from app.privacy import bp as privacy_bp
    from app.registrations import bp as registrations_bp
    from app.registrations import models as registration_models  # noqa: F401
    from app.reports import bp as reports_bp
    from app.webhooks import models as webhook_models  # noqa: F401

    app.register_blueprint(health.bp)
    app.register_blueprint(events_bp)
    app.register_blueprint(registrations_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(followup_bp)
    app.register_blueprint(payments_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(platforms_bp)
    register_api(app)
    pages.init_app(app)
    brand.init_app(app)
    cli.init_app(app)
    # The worker first, then the packages that add their jobs to it (a pass runs them in
    # this order; mail's outbox goes last whatever the order).
    worker.init_app(app)
    mail.init_app(app)
    auth.init_app(app)
    registrations.init_app(app)
    # Before follow-up: a pass applies pulled attendance, then routes.
    platforms.init_app(app)
    followup.init_app(app)
    payments.init_app(app)
    webhooks.init_app(app)
    privacy.init_app(app)
    return app
