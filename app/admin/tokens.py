"""The console's API tokens page: everyone lists, creates and revokes their own; admins see
and revoke everyone's. The rules live in `app.auth.tokens`, shared with the command line."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.admin import bp
from app.admin.forms import TokenForm
from app.auth.access import roles_required
from app.auth.tokens import issue_token, revoke_token, status, token_seen_by, tokens_seen_by
from app.models import ROLES, User
from app.pages import show_refusal
from app.refusals import Refusal


def _page(form: TokenForm, **extra: Any) -> str:
    viewer: User = current_user
    zone = viewer.rep_profile.timezone if viewer.rep_profile else "UTC"
    return render_template(
        "admin/tokens.html",
        form=form,
        tokens=tokens_seen_by(viewer),
        status=status,
        zone=zone,
        **extra,
    )


@bp.get("/tokens")
@roles_required(*ROLES)
def tokens() -> Any:
    return _page(TokenForm(formdata=None))


@bp.post("/tokens")
@roles_required(*ROLES)
def create_token() -> Any:
    form = TokenForm()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            row, secret = issue_token(
                current_user,
                name=form.name.data,
                expires_in_days=form.expires_in_days.data,
            )
        except Refusal as refusal:
            problems = show_refusal(form, refusal)
        else:
            # Shown in this answer only: never stored, never put in a flash message or a URL.
            page = _page(TokenForm(formdata=None), created=row, secret=secret)
            return page, 200, {"Cache-Control": "no-store"}
    return _page(form, problems=problems), 422


@bp.post("/tokens/<int:token_id>/revoke")
@roles_required(*ROLES)
def revoke(token_id: int) -> Any:
    row = token_seen_by(current_user, token_id)
    if row is None:
        abort(404, "There is no API token with this number among the tokens you can see.")
    owner = "your" if row.user_id == current_user.id else f"{row.user.email}'s"
    if revoke_token(row):
        flash(f"Revoked {owner} token {row.name or row.id}: it no longer works.", "ok")
    else:
        flash(f"{owner.capitalize()} token {row.name or row.id} was already revoked.", "ok")
    return redirect(url_for("admin.tokens"), code=303)
