"""/api/v1/people/<email>: a data-subject request answered by address (case ignored):
everything held, its erasure, and withdrawing marketing consent."""

from __future__ import annotations

from typing import Any, NoReturn

from app.api import auth
from app.api.blueprint import ApiBlueprint
from app.api.errors import fail
from app.api.schemas.people import ConsentOut, ErasureOut, PersonOut
from app.privacy.people import erase_person, export_person, find_person
from app.registrations.consent import withdraw_lead_consent

blp = ApiBlueprint(
    "People",
    __name__,
    url_prefix="/api/v1/people",
    description="A person's data, by email address: export, erasure, consent.",
)

ADMIN = ("admin",)
MANAGERS = ("admin", "marketer")


def _nothing_held(email: str) -> NoReturn:
    fail(404, f"Nothing is held about {email}.")


def _held_about(email: str) -> dict[str, Any]:
    document = export_person(email)
    if document is None:
        _nothing_held(email)
    return document


@blp.route("/<email>", methods=["GET"])
@blp.allow(*ADMIN)
@blp.response(200, PersonOut)
@blp.alt_response(404, response="NOT_FOUND")
def get_person(email: str) -> dict[str, Any]:
    """Everything held about the address, as one document."""
    return _held_about(email)


@blp.route("/<email>/erase", methods=["POST"])
@blp.allow(*ADMIN)
@blp.response(200, ErasureOut)
@blp.alt_response(404, response="NOT_FOUND")
def erase(email: str) -> dict[str, Any]:
    """Erase the person everywhere, for good; registrations stay as anonymous seats and
    nothing is refunded. The erasure is logged with the address's hash, never the address."""
    user = auth.require(ADMIN)
    report = erase_person(email, actor=user.email, source="api")
    if report is None:
        _nothing_held(email)
    return report.to_json()


@blp.route("/<email>/consent/withdraw", methods=["POST"])
@blp.allow(*MANAGERS)
@blp.response(200, ConsentOut)
@blp.alt_response(404, response="NOT_FOUND")
def withdraw(email: str) -> dict[str, Any]:
    """Withdraw the person's marketing consent now (recorded with source `api`)."""
    person = find_person(email)
    if person is None or person.lead_id is None:
        _nothing_held(email)
    withdraw_lead_consent(person.lead_id, "api")
    document = _held_about(email)
    return {
        "consent_marketing": bool((document["lead"] or {}).get("consent_marketing")),
        "consents": document.get("consents", []),
    }
