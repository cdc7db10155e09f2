"""Landing page, thank-you page and manage link: parse the request, call the service, render."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, make_response, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from app.brand import current_brand
from app.db import utcnow
from app.events import calendar
from app.events.description import plain_summary, render_description
from app.events.models import Event
from app.events.notice import offers_replay, page_notice
from app.events.services import by_slug
from app.extensions import csrf, limiter
from app.languages import N_, current_language, page_language, speak
from app.registrations import (
    booking,
    bp,
    invites,
    landing_cache,
    payment_hooks,
    personal_links,
    replay,
    services,
    source_links,
)
from app.registrations.answers import (
    AnswersRefused,
    checked_answers,
    from_form,
    labelled,
)
from app.registrations.forms import (
    CLICK_IDS,
    UTM_FIELDS,
    CancelForm,
    ConfirmCancelForm,
    ReserveForm,
    asked_on_form,
    form_stamp,
    form_token,
)
from app.registrations.links import manage_token, manage_url, open_link
from app.registrations.models import Question, Registration
from app.registrations.payment_hooks import PaymentShown
from app.registrations.questions import questions_of
from app.registrations.structured_data import event_document, json_ld, page_url
from app.security import sent_from_another_site


def landing_rate() -> str:
    return str(current_app.config["LANDING_RATE_LIMIT"])


# Shown in the page's language by the error page and the landing template (`translated`).
TOO_MANY_POSTS = N_(
    "This form has been sent from your address many times in a short while. "
    "Wait a minute, then try again."
)
SUBMIT_AGAIN = N_("Please check your details and send the form again.")
FROM_ANOTHER_SITE = N_(
    "This form was sent from another website, so it was not accepted. "
    "Open the event's page on this site and register there."
)


@bp.route("/e/<slug>", methods=["GET", "POST"])
# The session's token is the console's; this anonymous form proves its post without one.
@csrf.exempt
@limiter.limit(landing_rate, methods=["POST"], error_message=TOO_MANY_POSTS)
def landing(slug: str) -> Response | str | tuple[str, int]:
    return landing_page(slug)


def landing_page(slug: str, *, embed: bool = False) -> Response | str | tuple[str, int]:
    """The landing page and its form; `embed` is the framed form of `app.registrations.embed`,
    without the site's chrome.

    Neither needs a session: a post must not come from another site's page, and must carry
    our signed token (`csrf_token`), or for the framed form its signed stamp of this event
    (a third-party frame sends no Lax cookie either way).
    """
    version = None
    if request.method != "POST" and "p" not in request.args:
        # The rush's path: the page as rendered for this version, with this visitor's values.
        version = landing_cache.version_of(slug)
        if version is not None and version.status != "draft" and shareable(version.languages):
            speak(page_language(version))
            rendering = landing_cache.kept(slug, embed, current_language(), version)
            if rendering is not None:
                values = landing_cache.visitor_values(version.event_id, rendering.hidden_keys)
                return landing_cache.answer(rendering, slug, values)
    event = by_slug(slug)
    # A cancelled event keeps its page, so visitors with an old link learn that it is off.
    if event is None or event.status == "draft":
        abort(404, N_("There is no open event at this address."))
    speak(page_language(event))
    form = ReserveForm()
    if request.method == "POST":
        if sent_from_another_site():
            abort(400, FROM_ANOTHER_SITE)
        if embed and not form.served_for(slug):
            abort(400, N_("This form has expired. Reload the page and try again."))
        if not embed and not form.carries_our_token():
            # The same friendly page as the console's expired session token.
            raise CSRFError("The form's token is missing, forged or too old.")
    questions = questions_of(event.id)
    # A personal link names the lead; a forged or tampered one is ignored: the plain form.
    visit = personal_links.visit_of(
        form.p.data if request.method == "POST" else request.args.get("p"), questions
    )
    asked, decided = visit.still_asked(questions) if visit else (questions, set())
    if visit is not None:
        # The address is the link's lead's own: shown, not to be changed here.
        form.email.render_kw = {"readonly": True}
    answers: dict[str, Any] = {}
    answer_errors: dict[str, str] = {}
    notice = page_notice(event)
    # A past event's replay takes the same form after registration for the live one closed.
    refusal = None if notice.replay else event.closed_reason()
    problem = None
    status_code = 200
    # A page every visitor may share (a GET's): no one's link, no banner naming another event.
    shared = (
        version is not None
        and visit is None
        and notice.banner is None
        and shareable(event.languages)
    )
    hidden_keys = [q.key for q in questions if q.type == "hidden"]
    visitor: dict[str, str] = {}
    if request.method != "POST":
        # GET and HEAD. Campaign parameters, the referring page and hidden questions' values
        # travel in hidden fields; a page to keep is rendered with marks in their place.
        visitor = landing_cache.visitor_values(event.id, hidden_keys)
        shown = {name: landing_cache.slot(name) for name in visitor} if shared else visitor
        for name in (*UTM_FIELDS, *CLICK_IDS, "src", "referrer"):
            form[name].data = shown[name]
        answers = {key: shown[f"answers.{key}"] for key in hidden_keys}
        if visit is not None:
            for name, value in visit.prefilled().items():
                form[name].data = value
            form.p.data = visit.token
    elif refusal:
        # Nothing the visitor could correct in the form would help, so it is not judged.
        status_code = 409
    elif form.caught_in_honeypot():
        # A bot learns nothing from the answer: it is the page anyone gets for a known email.
        return _link_emailed(event, embed)
    else:
        if visit is not None:
            # The link's lead registers, whatever email came back with the form.
            form.email.data = visit.lead.email
        valid = form.validate_on_submit()
        answers = from_form(asked, request.form)
        if visit is not None:
            answers = visit.with_known(answers)
        # Judged with the other fields, so one submit shows every mistake; the service
        # judges them again by the same rule.
        try:
            checked_answers(questions, answers)
        except AnswersRefused as exc:
            answer_errors = exc.fields
        # A personal link's one click may come quickly; it can only register its own lead.
        if visit is None and form.filled_too_fast(slug):
            problem = SUBMIT_AGAIN
            status_code = 422
        elif not valid or answer_errors:
            status_code = 422
        else:
            try:
                link = source_links.find(event.id, form.src.data)
                if notice.replay:
                    watcher, created = replay.register_for_replay(
                        event.id, form.registrant(answers, link.id if link is not None else None)
                    )
                    if not created and visit is None:
                        # Whoever typed a registrant's email may not own it: they may watch
                        # (anyone may, by giving an address), but the view is not counted on
                        # that person's registration, where it would move their score.
                        return redirect(str(event.recording_url), code=303)
                    return redirect(_watch_url(event, watcher), code=303)
                outcome = services.register_publicly(
                    event.id, form.registrant(answers, link.id if link is not None else None)
                )
            except AnswersRefused as exc:
                answer_errors = exc.fields
                status_code = 422
            except services.RegistrationRefused as exc:
                refusal = exc.message
                status_code = 409
            else:
                if not outcome.created:
                    # Whoever typed the email may not own it: they get no link, the address does.
                    return _link_emailed(event, embed)
                if embed:
                    # The frame stays on this address, showing the thanks page, whose links
                    # (pay, manage) open outside the frame.
                    return thanks_page(
                        outcome.registration, manage_token(outcome.registration), embed=True
                    )
                if outcome.registration.status != "pending_payment":
                    token = manage_token(outcome.registration)
                    return redirect(url_for("registrations.thanks", token=token), code=303)
                # The seat is held; the payments package says where it is paid.
                try:
                    return redirect(payment_hooks.checkout_url(outcome.registration.id), code=303)
                except payment_hooks.PaymentUnavailable as exc:
                    refusal = exc.message
                    status_code = 503
    if shared:
        form.served.data = landing_cache.slot("served")
        form.csrf_token.data = landing_cache.slot("csrf_token")
    else:
        form.served.data = form_stamp(slug)
        form.csrf_token.data = form_token()
    summary = plain_summary(event.description)
    html = render_template(
        "registrations/landing.html",
        event=event,
        form=form,
        questions=asked_on_form(asked, decided),
        personal=visit is not None,
        answers=answers,
        answer_errors=answer_errors,
        refusal=refusal,
        problem=problem,
        notice=notice,
        description=render_description(event.description),
        summary=summary,
        structured_data=json_ld(event_document(event, current_brand(), summary)),
        page_url=page_url(event),
        consent_text=current_app.config["CONSENT_TEXT"],
        embed=embed,
    )
    if shared:
        assert version is not None
        rendering = landing_cache.keep(
            slug,
            embed,
            current_language(),
            version,
            html,
            hidden_keys,
            landing_cache.next_change(event),
        )
        return landing_cache.answer(rendering, slug, visitor)
    response = make_response(html, status_code)
    if request.method == "POST" or "p" in request.args:
        # A personal link's page holds its lead's details; an answer to a post is its sender's.
        response.headers["Cache-Control"] = "private, no-store"
    return response


def shareable(languages: tuple[str, ...]) -> bool:
    # The language switcher links to this very address, its parameters (campaign, hidden
    # questions) included: a page that has one is the visitor's own unless nothing was asked.
    return len(languages) == 1 or not request.args


def _watch_url(event: Event, registration: Registration) -> str:
    return url_for("registrations.watch", slug=event.slug, token=replay.watch_token(registration))


@bp.get("/e/<slug>/watch/<token>")
def watch(slug: str, token: str) -> Response:
    """The tracked link to the recording: records an on-demand view, then sends the viewer on."""
    event = by_slug(slug)
    registration = replay.watching(token)
    if event is None or registration is None or registration.event_id != event.id:
        abort(404, N_("This link to the recording is not valid."))
    if not offers_replay(event):
        abort(404, replay.NO_RECORDING)
    if request.method == "GET":
        # A HEAD (a link checker's) is not someone watching.
        replay.record_view(registration)
    return redirect(str(event.recording_url), code=303)


@bp.app_template_global("labelled_answers")
def labelled_answers(
    registration: Registration, questions: list[Question] | None = None
) -> list[tuple[str, str]]:
    """A registration's answers under their questions' labels, for the console's pages (a
    table passes its event's `questions`, read once for every row)."""
    if questions is None:
        questions = questions_of(registration.event_id)
    return labelled(questions, registration.answers)


def _link_emailed(event: Event, embed: bool) -> str:
    """The neutral answer, for an email already registered and for a bot caught in the
    honeypot alike: it names nobody and shows no link."""
    return render_template("registrations/link_emailed.html", event=event, embed=embed)


@bp.get("/r/<token>/thanks")
def thanks(token: str) -> str:
    return thanks_page(open_link(token), token)


def thanks_page(registration: Registration, token: str, *, embed: bool = False) -> str:
    speak(registration.language)
    payment = payment_hooks.payment_of(registration)
    return render_template(
        "registrations/thanks.html",
        registration=registration,
        event=registration.event,
        token=token,
        position=services.waitlist_position(registration),
        calendar_links=_calendar_links(registration, token),
        payment=payment,
        waiting=_waiting_for_payment(registration, payment, request.args.get("paid") == "1"),
        booking=booking.offer_for(registration),
        embed=embed,
    )


@bp.get("/r/<token>")
def manage(token: str) -> str:
    registration = open_link(token)
    speak(registration.language)
    return render_template(
        "registrations/manage.html",
        registration=registration,
        event=registration.event,
        token=token,
        form=CancelForm(),
        position=services.waitlist_position(registration),
        calendar_links=_calendar_links(registration, token),
        # Only a registration that really is cancelled may say so; the query alone is not proof.
        cancelled_now=request.args.get("cancelled") == "1" and registration.status == "cancelled",
        payment=payment_hooks.payment_of(registration),
        # Stripe's cancel address: the buyer closed Checkout; their seat is still held.
        checkout_left=request.args.get("checkout") == "left"
        and registration.status == "pending_payment",
        now=utcnow(),
        watch_url=_watch_url(registration.event, registration)
        if offers_replay(registration.event) and registration.status not in ("declined",)
        else None,
    )


@bp.route("/r/<token>/cancel", methods=["GET", "POST"])
def cancel(token: str) -> Response | tuple[str, int]:
    """Cancelling takes two steps: this page says what will happen, and only its POST with
    the explicit `confirm` field cancels (a stray or replayed click gives nothing up)."""
    registration = open_link(token)
    speak(registration.language)
    form = ConfirmCancelForm()
    status_code = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400, N_("This form has expired. Reload the page and try again."))
        if form.confirmed():
            services.cancel(registration.id)
            return redirect(url_for("registrations.manage", token=token, cancelled=1), code=303)
        status_code = 422
    return (
        render_template(
            "registrations/cancel.html",
            registration=registration,
            event=registration.event,
            token=token,
            form=form,
            payment=payment_hooks.payment_of(registration),
            now=utcnow(),
        ),
        status_code,
    )


@bp.get("/r/<token>/invite.ics")
def invite_ics(token: str) -> Response:
    registration = open_link(token)
    if registration.status == "waitlisted":
        abort(404, N_("You are on the waitlist: your calendar invite comes when a seat is yours."))
    if registration.status == "pending_payment":
        abort(
            404, N_("Your seat is waiting for payment: your calendar invite comes once it is paid.")
        )
    if registration.status == "unverified":
        abort(
            404,
            N_(
                "Confirm your email address first: your calendar invite comes with the "
                "confirmation."
            ),
        )
    if registration.status in ("pending_approval", "declined"):
        abort(
            404, N_("Your registration has not been approved: there is no calendar invite for it.")
        )
    method = invites.current_method(registration)
    ics = invites.personal_invite(
        registration, method=method, sequence=registration.invite_sequence
    )
    return Response(
        ics,
        content_type=f"text/calendar; charset=utf-8; method={method}",
        headers={"Content-Disposition": 'attachment; filename="invite.ics"'},
    )


def _waiting_for_payment(
    registration: Registration, payment: PaymentShown | None, back_from_checkout: bool
) -> str | None:
    """What a held seat is waiting for, as the return page tells it.

    "confirming": the buyer is back from Checkout and Stripe's word has not come yet (the
    redirect itself proves nothing); "on its way": a bank payment that takes days; "payment":
    nothing paid yet.
    """
    if registration.status != "pending_payment":
        return None
    if payment is not None and payment.status == "processing":
        return "on its way"
    return "confirming" if back_from_checkout else "payment"


def _calendar_links(registration: Registration, token: str) -> list[tuple[str, str]]:
    """Add-to-calendar links, for a confirmed seat at an event that is still on."""
    event = registration.event
    if registration.status != "confirmed" or event.status == "cancelled":
        return []
    base = current_app.config["BASE_URL"]
    return calendar.add_to_calendar_links(
        event,
        details=calendar.event_details(
            event,
            manage_url=manage_url(registration),
            join_url=registration.join_link,
            language=registration.language,
        ),
        ics_url=base + url_for("registrations.invite_ics", token=token),
    )
