"""Command line for after the event: `flask --app wsgi attendance import` and `followups route`."""

from __future__ import annotations

import io
import os
from typing import BinaryIO

import click

from app.followup import bp


@click.group(help="Attendance reports.")
def attendance() -> None:
    pass


@attendance.command("import")
@click.argument("slug")
@click.argument("report", type=click.File("rb"))
def attendance_import(slug: str, report: BinaryIO) -> None:
    """Apply a Zoom, GoToWebinar or Teams attendance report (or a CSV of email, minutes) to SLUG."""
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


bp.cli.add_command(attendance)
bp.cli.add_command(followups)
