"""Landing page, thank-you page and manage link: parse the request, call the service, render."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import abort, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.events.description import plain_summary, render_description
from app.events.services import published_by_slug
from app.registrations import bp, services
from app.registrations.forms import CancelForm, ReserveForm
from app.registrations.links import manage_token, registration_for

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign")


@bp.route("/e/<slug>", methods=["GET", "POST"])
def landing(slug: str) -> Response | str | tuple[str, int]:
    event = published_by_slug(slug)
    if event is None:
        abort(404, "There is no open event at this address.")
    form = ReserveForm()
    refusal = None
    status_code = 200
    if request.method == "GET":
        # Campaign parameters and the referring page travel in hidden fields to the POST.
        for name in UTM_FIELDS:
            getattr(form, name).data = request.args.get(name, "")[:200]
        form.referrer.data = (request.referrer or "")[:500]
    elif form.validate_on_submit():
        try:
            outcome = services.register(event.id, form.registrant())
        except services.RegistrationRefused as exc:
            refusal = exc.message
            status_code = 409
        else:
            token = manage_token(outcome.registration)
            query = "" if outcome.created else "?" + urlencode({"again": 1})
            return redirect(url_for("registrations.thanks", token=token) + query, code=303)
    else:
        status_code = 422
    return (
        render_template(
            "registrations/landing.html",
            event=event,
            form=form,
            refusal=refusal or event.closed_reason(),
            description=render_description(event.description),
            summary=plain_summary(event.description),
            consent_text=current_app.config["CONSENT_TEXT"],
        ),
        status_code,
    )


@bp.get("/r/<token>/thanks")
def thanks(token: str) -> str:
    registration = registration_for(token)
    if registration is None:
        abort(404, "This link is not valid.")
    return render_template(
        "registrations/thanks.html",
        registration=registration,
        event=registration.event,
        token=token,
        again=request.args.get("again") == "1",
        position=services.waitlist_position(registration),
    )


@bp.get("/r/<token>")
def manage(token: str) -> str:
    registration = registration_for(token)
    if registration is None:
        abort(404, "This link is not valid. Check that you copied the whole link from your email.")
    return render_template(
        "registrations/manage.html",
        registration=registration,
        event=registration.event,
        token=token,
        form=CancelForm(),
        position=services.waitlist_position(registration),
        cancelled_now=request.args.get("cancelled") == "1",
    )


@bp.post("/r/<token>/cancel")
def cancel(token: str) -> Response:
    registration = registration_for(token)
    if registration is None:
        abort(404, "This link is not valid.")
    form = CancelForm()
    if not form.validate_on_submit():
        abort(400, "This form has expired. Reload the page and try again.")
    services.cancel(registration.id)
    return redirect(url_for("registrations.manage", token=token, cancelled=1), code=303)
