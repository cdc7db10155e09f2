"""Commands that span packages: `flask --app wsgi serve` and `demo seed`.

Each package adds its own commands from its `cli.py` (`users` and `tokens` in `app.auth`,
`attendance` and `followups` in `app.followup`, `payments` in `app.payments`); `db upgrade`
comes from Flask-Migrate.
"""

from __future__ import annotations

import io
from datetime import timedelta

import click
from flask import Flask
from sqlalchemy import func, select

from app.auth.staff import add_staff, update_rep_profile
from app.brand import save_brand
from app.db import db, utcnow
from app.events.services import create_event, update_event
from app.models import User
from app.registrations.questions import add_built_in

DEMO_USERS: tuple[tuple[str, str, str, str, list[str]], ...] = (
    # email, name, role, password, territory
    ("admin@example.com", "Avery Admin", "admin", "demo-admin-2026", []),
    ("mia.marketer@example.com", "Mia Marketer", "marketer", "demo-marketer-2026", []),
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
    """Seed the demo on an empty database: a published free webinar a week ahead, a past one
    with its recording, attendance, routed follow-ups and post-event emails, an admin, a
    marketer and two reps. On a demo database it adds what a newer demo has and prints the
    logins again; a database with other users is left alone."""
    demo_admin = db.session.scalar(select(User).where(User.email == DEMO_USERS[0][0]))
    if demo_admin is None and db.session.scalar(select(func.count()).select_from(User)):
        click.echo("The database already has users; demo not seeded.")
        return
    fresh = demo_admin is None
    _seed_users()
    if fresh:
        # The public pages say whom they come from (an admin changes it under Settings).
        save_brand(
            {
                "name": "Northwind Analytics",
                "accent": "#0f766e",
                "footer": "Northwind Analytics · Questions? Reply to any email we sent you.",
            }
        )
        _seed_upcoming_webinar()
        _seed_routing_rules()
    _seed_past_webinar()
    click.echo("Demo seeded. Logins:" if fresh else "Demo already seeded. Logins:")
    for email, _name, role, password, _countries in DEMO_USERS:
        click.echo(f"  {role:<8} {email:<26} password: {password}")
    click.echo("Landing page: /e/demo-webinar   Past webinar: /admin/events/demo-past-webinar")


def _seed_users() -> None:
    # Through the same services as the console and `users create`: one staff-creation path.
    for email, name, role, password, countries in DEMO_USERS:
        if db.session.scalar(select(User.id).where(User.email == email)) is not None:
            continue
        user = add_staff(email, name, role, password)
        if user.rep_profile is not None:
            timezone = "America/New_York" if "US" in countries else "Europe/Berlin"
            update_rep_profile(user.rep_profile, {"countries": countries, "timezone": timezone})


def _seed_upcoming_webinar() -> None:
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
            # A browser asking for German gets the page (and its emails) in German.
            "other_languages": ["de"],
            "capacity": 100,
            "waitlist": True,
            "join_url": "https://meet.example.com/demo-webinar",
            "campaign": "Demo campaign",
            "speakers": [
                {"name": "Priya Raman", "title": "Head of Marketing, Northwind Analytics"},
                {"name": "Daniel Okafor", "title": "VP Sales, Northwind Analytics"},
            ],
        }
    )
    update_event(event, {"status": "published"})
    # The qualifying questions a landing-page registrant answers; the company size is what
    # the Executives rule's segment is read from.
    for name in ("company_size", "heard_about_us"):
        add_built_in(event.id, name)


# The past webinar's registrants: (email, first, last, company, country, minutes attended;
# 0: a no-show). Americans go to Rita by territory, Europeans to the EMEA rule's reps.
PAST_REGISTRANTS: tuple[tuple[str, str, str, str, str, int], ...] = (
    ("olivia.chen@northwind.example.com", "Olivia", "Chen", "Northwind", "US", 44),
    ("marcus.lee@contoso.example.com", "Marcus", "Lee", "Contoso", "US", 12),
    ("sara.ortiz@fabrikam.example.com", "Sara", "Ortiz", "Fabrikam", "CA", 0),
    ("jonas.weber@adatum.example.com", "Jonas", "Weber", "Adatum", "DE", 38),
    ("lea.martin@tailspin.example.com", "Léa", "Martin", "Tailspin", "FR", 0),
    ("tom.hughes@litware.example.com", "Tom", "Hughes", "Litware", "GB", 27),
    ("anna.schulz@proseware.example.com", "Anna", "Schulz", "Proseware", "DE", 0),
)


def _seed_past_webinar() -> None:
    """A webinar that ended two days ago, with a recording: its attendance report applied
    (some attended, some did not), its follow-ups routed to both reps and its post-event
    emails in the outbox (to example.com addresses; the seed queues this event's only)."""
    from app.events.services import by_slug
    from app.followup.attendance import read_report
    from app.followup.attendance.applying import apply_attendance
    from app.followup.routing import route_followups
    from app.mail.post_event import queue_post_event_emails
    from app.registrations.services import Registrant, register

    if by_slug("demo-past-webinar") is not None:
        return
    starts = (utcnow() - timedelta(days=2)).replace(hour=15, minute=0, second=0, microsecond=0)
    event = create_event(
        {
            "slug": "demo-past-webinar",
            "title": "Demo webinar: pipeline from events, live",
            "description": "How one webinar turned into a week of qualified meetings.",
            "starts_at": starts,
            "duration_minutes": 45,
            "timezone": "Europe/Berlin",
            "capacity": 100,
            "waitlist": True,
            "join_url": "https://meet.example.com/demo-past-webinar",
            "campaign": "Demo campaign",
            "recording_url": "https://videos.example.com/demo-past-webinar",
            "cta_url": "https://example.com/book-a-demo",
            "cta_label": "Book a demo",
            "other_languages": ["de"],
        }
    )
    update_event(event, {"status": "published"})
    for index, (email, first, last, company, country, _minutes) in enumerate(PAST_REGISTRANTS):
        register(
            event.id,
            Registrant(
                email=email,
                email_normalized=email,
                first_name=first,
                last_name=last,
                company=company,
                country=country,
                consent_marketing=index % 2 == 0,
                # The Germans registered on the German page: their emails are German.
                language="de" if country == "DE" else None,
            ),
            now=starts - timedelta(days=6, hours=-index),
        )
    report = "email,minutes\n" + "".join(
        f"{email},{minutes}\n" for email, *_rest, minutes in PAST_REGISTRANTS if minutes
    )
    imported_at = event.ends_at + timedelta(minutes=40)
    apply_attendance(event, read_report(io.BytesIO(report.encode()), event), now=imported_at)
    # Routed now, so the reps' follow-ups are due ahead of them (not escalated on first sight).
    route_followups(event.id, trigger="cli")
    queue_post_event_emails(only=event.id)
    db.session.commit()


def _seed_routing_rules() -> None:
    """Two demo rules: enterprises (1000+ employees, as the landing form asks) go to Rita;
    Europe is shared by both reps."""
    from app.followup.rules import save_rule

    reps = {user.email: user.id for user in db.session.scalars(select(User))}
    rita, emil = reps["rita.rep@example.com"], reps["emil.rep@example.com"]
    save_rule(None, {"name": "Executives", "segments": ["enterprise"], "target_rep_id": rita})
    save_rule(None, {"name": "EMEA", "regions": ["EMEA"], "members": [(emil, 2), (rita, 1)]})
