"""`flask --app wsgi people export EMAIL` and `people erase EMAIL --yes`."""

from __future__ import annotations

import json

import click

from app.privacy import bp
from app.privacy.people import erase_person, export_person

people = click.Group("people", help="A person's data: export it, or erase it for good.")
bp.cli.add_command(people)


@people.command("export")
@click.argument("email")
def export_command(email: str) -> None:
    """Print everything held about EMAIL as one JSON document."""
    document = export_person(email)
    if document is None:
        raise click.ClickException(f"Nothing is held about {email}.")
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


@people.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Erase for good (without it, only say what would go).")
def erase_command(email: str, yes: bool) -> None:
    """Erase everything held about EMAIL; registrations stay as anonymous seats."""
    document = export_person(email)
    if document is None:
        raise click.ClickException(f"Nothing is held about {email}.")
    if not yes:
        click.echo(f"This would erase, for good, what is held about {email}:")
        for key, value in document.items():
            if isinstance(value, list):
                click.echo(f"  {key}: {len(value)}")
        click.echo(
            "Registrations stay as anonymous seats; payments are kept and nothing is refunded."
        )
        raise click.ClickException("Nothing erased: add --yes to erase.")
    report = erase_person(email, actor="cli", source="cli")
    assert report is not None
    click.echo(json.dumps(report.to_json(), indent=2))
