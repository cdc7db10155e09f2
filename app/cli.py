"""Commands that span packages: `flask --app wsgi serve` and `demo seed`.

Each package adds its own commands from its `cli.py` (`users` and `tokens` in `app.auth`,
`attendance` and `followups` in `app.followup`, `payments` in `app.payments`); `db upgrade`
comes from Flask-Migrate.
"""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask
from sqlalchemy import func, select

from app.auth.staff import add_staff, update_rep_profile
from app.db import db, utcnow
from app.events.services import create_event, update_event
from app.models import User
from app.registrations.questions import add_built_in

DEMO_USERS: tuple[tuple[str, str, str, str, list[str]], ...] = (
    # email, name, role, password, territory
    ("admin@example.com", "Avery Admin", "admin", "demo-admin-2026", []),
    ("rita.rep@example.com", "Rita Rep", "rep", "demo-rep-2026", ["US", "CA"]),
    ("emil.rep@example.com", "Emil Rep", "rep", "demo-rep-2026", ["DE", "FR", "GB"]),
)


def init_app(app: Flask) -> None:
    app.cli.add_command(demo)
    app.cli.add_command(serve)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--worker/--no-worker", default=True, show_default=True, help="Run the worker beside it."
)
def serve(host: str, port: int, worker: bool) -> None:
    """Serve the site for `make run`, with the background worker (production: see README)."""
    from flask import current_app
    from werkzeug.serving import run_simple

    from app.access_log import PatternLoggingHandler
    from app.worker import worker_beside

    with worker_beside(enabled=worker):
        click.echo(f"Serving on http://{host}:{port}  (Ctrl+C to stop)")
        # Flask types current_app as the app, not as the proxy it is; the server needs the app.
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        run_simple(host, port, app, threaded=True, request_handler=PatternLoggingHandler)


@click.group(help="Demo data.")
def demo() -> None:
    pass


@demo.command("seed")
def demo_seed() -> None:
    """Seed a published free webinar, an admin and two reps, when the database is empty."""
    if db.session.scalar(select(func.count()).select_from(User)):
        click.echo("The database already has users; demo not seeded.")
        return
    # Through the same services as the console and `users create`: one staff-creation path.
    for email, name, role, password, countries in DEMO_USERS:
        user = add_staff(email, name, role, password)
        if user.rep_profile is not None:
            timezone = "America/New_York" if "US" in countries else "Europe/Berlin"
            update_rep_profile(user.rep_profile, {"countries": countries, "timezone": timezone})
    starts = (utcnow() + timedelta(days=7)).replace(hour=16, minute=0, second=0, microsecond=0)
    event = create_event(
        {
            "slug": "demo-webinar",
            "title": "Demo webinar: from registration to revenue",
            "description": (
                "See how marketing and sales share one lead from sign-up to closed deal.\n\n"
                "- Live walkthrough of the event console\n"
                "- How follow-up reaches the right rep within minutes\n"
                "- Q&A with the product team"
            ),
            "starts_at": starts,
            "duration_minutes": 45,
            "timezone": "America/New_York",
            "capacity": 100,
            "waitlist": True,
            "join_url": "https://meet.example.com/demo-webinar",
            "campaign": "Demo campaign",
        }
    )
    update_event(event, {"status": "published"})
    # The qualifying questions a landing-page registrant answers; the company size is what
    # the Executives rule's segment is read from.
    for name in ("company_size", "heard_about_us"):
        add_built_in(event.id, name)
    _seed_routing_rules()
    click.echo("Demo seeded. Logins:")
    for email, _name, role, password, _countries in DEMO_USERS:
        click.echo(f"  {role:<8} {email:<24} password: {password}")
    click.echo("Landing page: /e/demo-webinar")


def _seed_routing_rules() -> None:
    """Two demo rules: enterprises (1000+ employees, as the landing form asks) go to Rita;
    Europe is shared by both reps."""
    from app.followup.rules import save_rule

    reps = {user.email: user.id for user in db.session.scalars(select(User))}
    rita, emil = reps["rita.rep@example.com"], reps["emil.rep@example.com"]
    save_rule(None, {"name": "Executives", "segments": ["enterprise"], "target_rep_id": rita})
    save_rule(None, {"name": "EMEA", "regions": ["EMEA"], "members": [(emil, 2), (rita, 1)]})
