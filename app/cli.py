"""Command line: `flask --app wsgi users|tokens|demo …` (`db upgrade` comes from Flask-Migrate)."""

from __future__ import annotations

import io
import os
from datetime import datetime, timedelta
from typing import BinaryIO

import click
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.db import db, utcnow
from app.events.services import create_event, update_event
from app.models import ROLES, ApiToken, User, create_user

DEMO_USERS = (
    # email, name, role, password, territory
    ("admin@example.com", "Avery Admin", "admin", "demo-admin-2026", []),
    ("rita.rep@example.com", "Rita Rep", "rep", "demo-rep-2026", ["US", "CA"]),
    ("emil.rep@example.com", "Emil Rep", "rep", "demo-rep-2026", ["DE", "FR", "GB"]),
)


def init_app(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(tokens)
    app.cli.add_command(demo)
    app.cli.add_command(serve)
    app.cli.add_command(attendance)
    app.cli.add_command(followups)
    app.cli.add_command(payments)


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

    from app.worker import worker_beside

    with worker_beside(enabled=worker):
        click.echo(f"Serving on http://{host}:{port}  (Ctrl+C to stop)")
        run_simple(host, port, current_app._get_current_object(), threaded=True)


@click.group(help="Staff users.")
def users() -> None:
    pass


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--password", required=True)
def users_create(email: str, name: str, role: str, password: str) -> None:
    """Create a staff user (a rep also gets a rep profile)."""
    from app import fields

    try:
        email, _ = fields.normalize_email(email)
    except fields.InvalidValue as exc:
        raise click.BadParameter(str(exc), param_hint="--email") from None
    if len(password) < 8:
        raise click.BadParameter("use at least 8 characters", param_hint="--password")
    create_user(email, name, role, password)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise click.ClickException(f"a user with the email {email} already exists") from None
    click.echo(f"created {role} {email.lower()}")


@click.group(help="API tokens.")
def tokens() -> None:
    pass


@tokens.command("create")
@click.option("--email", required=True)
@click.option("--name", default=None, help="A label, such as what the token is for.")
@click.option(
    "--expires-in-days", type=int, default=None, help="Stop working after this many days."
)
def tokens_create(email: str, name: str | None, expires_in_days: int | None) -> None:
    """Print a new API token acting as the user with this email (shown this once)."""
    from app.auth.staff import StaffRejected
    from app.auth.tokens import issue_token

    user = _staff_by_email(email)
    try:
        _row, secret = issue_token(user, name=name, expires_in_days=expires_in_days)
    except StaffRejected as exc:
        raise click.ClickException(_refusal(exc)) from None
    # Only the token on stdout, so `TOKEN=$(flask --app wsgi tokens create …)` works.
    click.echo(secret)


@tokens.command("list")
@click.option("--email", required=True)
def tokens_list(email: str) -> None:
    """List the API tokens of the user with this email (never the tokens themselves)."""
    from app.auth.tokens import status, tokens_of

    user = _staff_by_email(email)
    rows = tokens_of(user)
    if not rows:
        click.echo(f"{user.email} has no API tokens.")
        return
    click.echo(f"{'id':>5}  {'status':<8} {'created':<17} {'last used':<17} {'expires':<17} name")
    for row in rows:
        click.echo(
            f"{row.id:>5}  {status(row):<8} {_when(row.created_at):<17} "
            f"{_when(row.last_used_at):<17} {_when(row.expires_at):<17} {row.name or ''}"
        )


@tokens.command("revoke")
@click.option("--email", default=None, help="Revoke every token of this user.")
@click.option("--id", "token_id", type=int, default=None, help="Revoke this one token.")
def tokens_revoke(email: str | None, token_id: int | None) -> None:
    """Revoke every API token of a user (--email) or one token (--id); each then answers 401."""
    from app.auth.tokens import revoke_all, revoke_token

    if (email is None) == (token_id is None):
        raise click.UsageError("give either --email or --id")
    if email is not None:
        user = _staff_by_email(email)
        count = revoke_all(user)
        db.session.commit()
        click.echo(f"revoked {count} token{'' if count == 1 else 's'} of {user.email}")
        return
    row = db.session.get(ApiToken, token_id)
    if row is None:
        raise click.ClickException(f"no API token with the id {token_id}")
    if revoke_token(row):
        click.echo(f"revoked token {row.id} of {row.user.email}")
    else:
        click.echo(f"token {row.id} of {row.user.email} was already revoked")


def _staff_by_email(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no staff user with the email {email}")
    return user


def _refusal(exc: Exception) -> str:
    problems = getattr(exc, "fields", {})
    options = {"name": "--name", "expires_in_days": "--expires-in-days", "user": "--email"}
    return "; ".join(f"{options.get(name, name)}: {why}" for name, why in problems.items())


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


@click.group(help="Demo data.")
def demo() -> None:
    pass


@demo.command("seed")
def demo_seed() -> None:
    """Seed a published free webinar, an admin and two reps, when the database is empty."""
    if db.session.scalar(select(func.count()).select_from(User)):
        click.echo("The database already has users; demo not seeded.")
        return
    for email, name, role, password, countries in DEMO_USERS:
        user = create_user(email, name, role, password)
        if user.rep_profile is not None:
            user.rep_profile.countries = countries
            user.rep_profile.timezone = "America/New_York" if "US" in countries else "Europe/Berlin"
    db.session.commit()
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
    _seed_routing_rules()
    click.echo("Demo seeded. Logins:")
    for email, _name, role, password, _countries in DEMO_USERS:
        click.echo(f"  {role:<8} {email:<24} password: {password}")
    click.echo("Landing page: /e/demo-webinar")


def _seed_routing_rules() -> None:
    """Two demo rules: senior titles anywhere go to Rita; Europe is shared by both reps."""
    from app.followup.rules import save_rule

    reps = {user.email: user.id for user in db.session.scalars(select(User))}
    rita, emil = reps["rita.rep@example.com"], reps["emil.rep@example.com"]
    save_rule(
        None,
        {
            "name": "Executives",
            "title_keywords": ["CEO", "CTO", "VP", "Chief", "Head"],
            "segments": ["enterprise"],
            "target_rep_id": rita,
        },
    )
    save_rule(None, {"name": "EMEA", "regions": ["EMEA"], "members": [(emil, 2), (rita, 1)]})


@click.group(help="Attendance reports.")
def attendance() -> None:
    pass


@attendance.command("import")
@click.argument("slug")
@click.argument("report", type=click.File("rb"))
def attendance_import(slug: str, report: BinaryIO) -> None:
    """Apply a Zoom or GoToWebinar attendee report (or a CSV with email and minutes) to SLUG."""
    from app.events.services import by_slug
    from app.followup.attendance import AttendanceFileError, import_attendance

    event = by_slug(slug)
    if event is None:
        raise click.ClickException(f"no event with the slug {slug}")
    try:
        size: int | None = os.fstat(report.fileno()).st_size or None
    except (OSError, io.UnsupportedOperation):
        size = None  # a pipe: its length is unknown, so no bar
    try:
        if size is None:
            summary = import_attendance(event, report)
        else:
            with click.progressbar(length=size, label="Reading the report") as bar:
                summary = import_attendance(event, report, progress=bar.update)
    except AttendanceFileError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(
        f"Imported a {summary.source} into {slug}: {summary.attended} attended, "
        f"{summary.no_show} no-shows, {summary.unmatched} unmatched."
    )


@click.group(help="Sales follow-up.")
def followups() -> None:
    pass


@followups.command("route")
@click.argument("slug")
def followups_route(slug: str) -> None:
    """Route follow-up for the event SLUG now (running it again creates no duplicates)."""
    from app.events.services import by_slug
    from app.followup.routing import RoutingRefused, route_followups

    event = by_slug(slug.strip())
    if event is None:
        raise click.ClickException(f"no event with the slug {slug!r}")
    try:
        result = route_followups(event.id, trigger="cli")
    except RoutingRefused as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"created {result.created} follow-ups for {event.slug}")
    for email, count in sorted(result.by_rep.items()):
        click.echo(f"  {email}: {count}")
    if result.unassigned:
        click.echo(f"  unassigned (flagged for an admin): {result.unassigned}")


@click.group(help="Payments for paid events (Stripe).")
def payments() -> None:
    pass


@payments.command("reconcile")
def payments_reconcile() -> None:
    """Ask Stripe about every seat held for payment past its expiry, and settle it."""
    from app.config import stripe_configured
    from app.payments.reconcile import reconcile

    if not stripe_configured():
        raise click.ClickException(
            "Stripe is not configured (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET)."
        )
    counts = reconcile(
        progress=lambda holds: click.progressbar(
            holds, label=f"Settling {len(holds)} expired holds"
        )
    )
    if not counts:
        click.echo("No expired holds: nothing to settle.")
    for outcome, count in sorted(counts.items()):
        click.echo(f"  {outcome}: {count}")
