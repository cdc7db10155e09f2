"""The "Reserve your spot" form; its field rules come from `app.fields` and the model's columns.

It also carries two quiet checks against bots: a honeypot field people never see, and a
signed stamp of when the form was served (a person takes a moment to fill it in).

The form is public and anonymous, so its CSRF token is bound to no session: it is the signed
moment it was issued (`form_token`, good for a day), and the view also refuses a post the
browser says another site made (`app.security.sent_from_another_site`). The landing page
therefore sets no cookie, and one rendering of it serves every visitor.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from babel import Locale
from flask import current_app
from flask_babel import LazyString, gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from itsdangerous import BadData, URLSafeSerializer
from markupsafe import Markup, escape
from wtforms import BooleanField, EmailField, HiddenField, SelectField, StringField, TelField
from wtforms.validators import DataRequired, Optional, StopValidation, ValidationError
from wtforms.widgets import Select, html_params

from app import fields
from app.db import column_length as length_of
from app.languages import DEFAULT, N_, current_language
from app.registrations.answers import answer_text
from app.registrations.models import Question, Registration
from app.registrations.services import Registrant

# The hidden fields that say where a visitor came from, each a Registration column.
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
CLICK_IDS = ("gclid", "fbclid")
TRACKING_FIELDS = (*UTM_FIELDS, *CLICK_IDS, "referrer")

# How long a form's token (and an embedded form's stamp) proves a post: a visitor may leave
# the tab open, but a token copied once does not serve forever.
FORM_TOKEN_SECONDS = 24 * 3600
# What a token is signed for (the served stamp is signed for its event's slug).
TOKEN_SCOPE = "landing"  # noqa: S105 - a label, not a secret


def column_length(name: str) -> int:
    return length_of(Registration, name)


def _stripped(value: Any) -> Any:
    # Length limits apply to what is stored, and it is stored without surrounding spaces.
    return value.strip() if isinstance(value, str) else value


# Each validator below stops the chain, so a field shows one message: the first that applies.


def _at_most(limit: int) -> Callable[[FlaskForm, Any], None]:
    def check(form: FlaskForm, field: Any) -> None:
        if field.data and (problem := fields.length_problem(field.data, limit)):
            raise StopValidation(problem)

    return check


def _plain_text(form: FlaskForm, field: Any) -> None:
    if field.data and fields.CONTROL_IN_LINE.search(field.data):
        raise StopValidation(N_("Remove the invisible control characters from this field."))


def checked_by(
    rule: Callable[[str], Any], error: type[ValidationError | StopValidation] = StopValidation
) -> Callable[[FlaskForm, Any], None]:
    """A WTForms validator that runs one of the shared rules in `app.fields`.

    The public form stops at the first message a field earns (StopValidation); the console's
    forms pass ValidationError to let later validators add theirs.
    """

    def check(form: FlaskForm, field: Any) -> None:
        if not field.data:
            return
        try:
            rule(field.data)
        except fields.InvalidValue as exc:
            raise error(str(exc)) from None

    return check


def _text(required: str | LazyString | None, column: str) -> dict[str, Any]:
    """Filters and validators for a free-text field stored in `column`."""
    first = DataRequired(required) if required else Optional()
    return {
        "filters": [_stripped],
        "validators": [first, _plain_text, _at_most(column_length(column))],
    }


COUNTRY_PROMPT = N_("Choose your country")


def _country_options() -> str:
    return _country_options_in(current_language())


@cache
def _country_options_in(language: str) -> str:
    """The options with each country named in `language` (Babel's names; ours in English)."""
    names = Locale.parse(language).territories if language != DEFAULT else {}
    prompt = ("", gettext(COUNTRY_PROMPT))
    return "".join(
        f'<option value="{code}">{escape(names.get(code, name))}</option>'
        for code, name in (prompt, *fields.country_choices())
    )


class CountrySelect(Select):
    """WTForms' select with the ~250 country options rendered once per process: drawing them
    option by option was most of the landing page's cost."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        options = _country_options()
        chosen = f'<option value="{escape(field.data or "")}">'
        if field.data and chosen in options:
            options = options.replace(chosen, chosen[:-1] + " selected>", 1)
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")  # noqa: S704


class ReserveForm(FlaskForm):
    class Meta:
        # Not the session's token: the form proves itself with `csrf_token` below.
        csrf = False

    email = EmailField(
        _l("Work email"),
        filters=[_stripped],
        validators=[
            DataRequired(_l("Enter your email address.")),
            _at_most(column_length("email")),
            checked_by(fields.registrant_email),
        ],
    )
    first_name = StringField(_l("First name"), **_text(_l("Enter your first name."), "first_name"))
    last_name = StringField(_l("Last name"), **_text(None, "last_name"))
    company = StringField(_l("Company"), **_text(None, "company"))
    job_title = StringField(_l("Job title"), **_text(None, "job_title"))
    country = SelectField(
        _l("Country"),
        validators=[Optional(), checked_by(fields.country_code)],
        validate_choice=False,
        widget=CountrySelect(),
    )
    phone = TelField(_l("Phone"), **_text(None, "phone"))
    consent_marketing = BooleanField()
    utm_source = HiddenField()
    utm_medium = HiddenField()
    utm_campaign = HiddenField()
    utm_term = HiddenField()
    utm_content = HiddenField()
    gclid = HiddenField()
    fbclid = HiddenField()
    referrer = HiddenField()
    # The source link's code (`?src=`), looked up when the form comes back.
    src = HiddenField()
    # A lead's personal link (`?p=`), carried so the post still knows whose link it was.
    p = HiddenField()
    # The honeypot: hidden from people (site.css, aria-hidden, out of the tab order), so only a
    # bot that fills every input puts something here.
    website = StringField("Website")
    # When the form was served, signed (`form_stamp`).
    served = HiddenField()
    # The anonymous CSRF token (`form_token`), under the name browsers and tools expect.
    csrf_token = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = [("", gettext(COUNTRY_PROMPT)), *fields.country_choices()]

    def validate(self, extra_validators: Any = None) -> bool:
        """Judge the form; after a failed submit the first field in error gets `autofocus`, so
        the page opens with focus where the visitor must correct it (no script needed: CSP)."""
        valid = super().validate(extra_validators)
        first = next((field for field in self if field.errors), None)
        if first is not None:
            first.render_kw = {**(first.render_kw or {}), "autofocus": True}
        return valid

    def validate_phone(self, field: Any) -> None:
        if field.data:
            try:
                fields.phone_number(field.data, self._country_or_none())
            except fields.InvalidValue as exc:
                raise StopValidation(str(exc)) from None

    def caught_in_honeypot(self) -> bool:
        return bool((self.website.data or "").strip())

    def filled_too_fast(self, slug: str, now: float | None = None) -> bool:
        """True when the form came back sooner than a person could fill it in, or without a
        valid stamp from our GET (`FORM_MIN_FILL_SECONDS`; 0 turns the check off)."""
        least = float(current_app.config["FORM_MIN_FILL_SECONDS"])
        if least <= 0:
            return False
        served_at = self._served_at(slug)
        return served_at is None or (now if now is not None else time.time()) - served_at < least

    def served_for(self, slug: str, now: float | None = None) -> bool:
        """True when the form carries our stamp for `slug` from the last day: the embedded
        form's proof that it came from our page, in place of the session's CSRF token."""
        served_at = self._served_at(slug)
        return served_at is not None and (now or time.time()) - served_at < FORM_TOKEN_SECONDS

    def carries_our_token(self, now: float | None = None) -> bool:
        """True when the form carries a token of ours from the last day: the plain landing
        form's CSRF token, which needs no session. Like the session's token it serves any
        event's form (a page open before registration closed is told so, not "expired")."""
        issued_at = _signed_moment(_token_signer(), self.csrf_token.data, TOKEN_SCOPE)
        return issued_at is not None and (now or time.time()) - issued_at < FORM_TOKEN_SECONDS

    def _served_at(self, slug: str) -> float | None:
        return _signed_moment(_stamp_signer(), self.served.data, slug)

    def _country_or_none(self) -> str | None:
        # A local number is read in the chosen country; a country typed in lower case counts.
        try:
            return fields.country_code(self.country.data) if self.country.data else None
        except fields.InvalidValue:
            return None

    def registrant(
        self, answers: dict[str, Any] | None = None, source_link_id: int | None = None
    ) -> Registrant:
        """The validated form, with the answers to the event's questions and the source link
        it came through, as the service's input."""
        return Registrant.from_typed(
            {name: self[name].data for name in Registrant.TYPED},
            answers=answers or {},
            **{name: _hidden(self[name].data, column_length(name)) for name in TRACKING_FIELDS},
            source_link_id=source_link_id,
            consent_marketing=bool(self.consent_marketing.data),
            # The page's language (`app.languages.page_language`): the one they read it in.
            language=current_language(),
        )


def _hidden(value: str | None, limit: int) -> str | None:
    # Tracking fields are not the visitor's to fix: clean and trim them rather than refuse.
    return fields.CONTROL_IN_LINE.sub("", value or "").strip()[:limit] or None


STAMP_SALT = "landing-form-served"
TOKEN_SALT = "landing-form-token"  # noqa: S105 - a label, not a secret


def _stamp_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=STAMP_SALT)


def _token_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


@lru_cache(maxsize=256)
def _signed(secret: str, salt: str, scope: str, moment: float) -> str:
    # Signing costs more than the rest of a kept landing page's answer: visitors served in
    # the same second (tokens) or tenth of one (`landing_cache`'s stamps) share a signature.
    return str(URLSafeSerializer(secret, salt=salt).dumps([scope, moment]))


def _signed_moment(signer: URLSafeSerializer, value: str | None, scope: str) -> float | None:
    """The moment signed into `value` for `scope` (a slug); None when it is not ours, or is
    for another."""
    try:
        signed_scope, moment = signer.loads(value or "")
    except (BadData, TypeError, ValueError):
        return None
    if signed_scope != scope or not isinstance(moment, int | float):
        return None
    return float(moment)


def form_stamp(slug: str, now: float | None = None) -> str:
    """The signed moment the landing form of `slug` was served, for its hidden `served` field."""
    moment = now if now is not None else time.time()
    return _signed(current_app.config["SECRET_KEY"], STAMP_SALT, slug, moment)


def form_token(now: float | None = None) -> str:
    """The landing form's CSRF token: the signed second it was issued, bound to no visitor
    (the form is anonymous; see the module's docstring)."""
    moment = int(now if now is not None else time.time())
    return _signed(current_app.config["SECRET_KEY"], TOKEN_SALT, TOKEN_SCOPE, moment)


@dataclass(frozen=True)
class AskedOnForm:
    """A question as the landing form draws it: its choices as (value, words) pairs, and its
    condition in words, for visitors without JavaScript."""

    key: str
    label: str
    help: str
    type: str
    required: bool
    options: list[str]
    show_if: dict[str, Any] | None
    choices: tuple[tuple[str, str], ...]
    condition_label: str
    condition_text: str


def asked_on_form(
    questions: Sequence[Question], decided: Collection[str] = ()
) -> list[AskedOnForm]:
    """The questions as the form draws them; those in `decided` are drawn without their
    condition, which answers already known have settled (a personal link's skipped ones)."""
    labels = {question.key: question.label for question in questions}
    asked = []
    for question in questions:
        show_if = None if question.key in decided else question.show_if
        condition = show_if or {}
        if question.type == "country":
            choices = fields.country_choices()
        else:
            choices = tuple((option, option) for option in question.options)
        asked.append(
            AskedOnForm(
                key=question.key,
                label=question.label,
                help=question.help,
                type=question.type,
                required=question.required,
                options=question.options,
                show_if=show_if,
                choices=choices,
                condition_label=labels.get(condition.get("key", ""), ""),
                condition_text=_condition_text(condition.get("equals")),
            )
        )
    return asked


def _condition_text(value: Any) -> str:
    # A ticked box reads "yes" in the page's language; a choice reads as the organiser wrote it.
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    return answer_text(value)


class CancelForm(FlaskForm):
    """Only the CSRF token: the manage page's buttons (pay, go to the cancel step)."""


class ConfirmCancelForm(FlaskForm):
    """The second step of cancelling: a POST without `confirm` cancels nothing."""

    confirm = HiddenField()

    def confirmed(self) -> bool:
        return self.confirm.data == "yes"
