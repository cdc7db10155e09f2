"""Command line for staff accounts: `flask --app wsgi users …` and `tokens …`."""

from __future__ import annotations

from datetime import datetime

import click
from sqlalchemy import select

from app.auth import bp
from app.auth.staff import StaffRejected, add_staff
from app.auth.tokens import issue_token, revoke_all, revoke_token, status, tokens_of
from app.db import db
from app.models import ROLES, ApiToken, User

# A refusal names service fields; the command line names its options.
_OPTIONS = {"user": "--email"}


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
    try:
        user = add_staff(email, name, role, password)
    except StaffRejected as exc:
        raise click.ClickException(refusal(exc)) from None
    click.echo(f"created {user.role} {user.email}")


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
    user = _staff_by_email(email)
    try:
        _row, secret = issue_token(user, name=name, expires_in_days=expires_in_days)
    except StaffRejected as exc:
        raise click.ClickException(refusal(exc)) from None
    # Only the token on stdout, so `TOKEN=$(flask --app wsgi tokens create …)` works.
    click.echo(secret)


@tokens.command("list")
@click.option("--email", required=True)
def tokens_list(email: str) -> None:
    """List the API tokens of the user with this email (never the tokens themselves)."""
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


def refusal(exc: StaffRejected) -> str:
    """The refusal's field messages, each under the name of its option."""
    return "; ".join(
        f"{_OPTIONS.get(name, '--' + name.replace('_', '-'))}: {why}"
        for name, why in exc.fields.items()
    )


def _staff_by_email(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no staff user with the email {email}")
    return user


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


bp.cli.add_command(users)
bp.cli.add_command(tokens)
