"""Registrations builds on events, and payments on registrations: never the other way round.
Payments reaches the registrant's pages through the hooks it provides
(`app.registrations.payment_hooks`)."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import select

from app.db import db
from app.registrations import payment_hooks
from app.registrations.links import manage_token
from app.registrations.models import Registration
from tests.builders import csrf_token, make_event

PACKAGE = Path(payment_hooks.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports: at the top, inside functions, under TYPE_CHECKING."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_registrations_imports_nothing_from_payments():
    files = sorted(PACKAGE.rglob("*.py"))
    assert files
    reaching = {
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in files
        for name in _imported_modules(path)
        if name == "app.payments" or name.startswith("app.payments.")
    }
    assert reaching == set()


def test_the_walk_sees_an_import_inside_a_function(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from app.payments.checkout import checkout_url\n")
    assert "app.payments.checkout" in _imported_modules(sample)


def test_a_held_seat_and_its_pages_go_where_the_payments_package_says(app, client):
    app.config.update(STRIPE_SECRET_KEY="sk_test_edge", STRIPE_WEBHOOK_SECRET="whsec_edge")
    make_event(slug="paid", price_cents=4900, currency="EUR")
    asked: list[int] = []

    def checkout_url(registration_id: int) -> str:
        asked.append(registration_id)
        return "https://pay.example.com/session-1"

    def payment_of(registration: Registration) -> SimpleNamespace:
        return SimpleNamespace(
            status="paid", amount_cents=4900, currency="EUR", refund_status="none"
        )

    payment_hooks.provide(app, payment_hooks.PaymentHooks(checkout_url, payment_of))
    page = client.get("/e/paid").get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "email": "ada@example.com", "first_name": "Ada"}
    response = client.post("/e/paid", data=form)
    assert response.status_code == 303
    assert response.headers["Location"] == "https://pay.example.com/session-1"
    registration = db.session.scalars(select(Registration)).one()
    assert asked == [registration.id]
    manage = client.get(f"/r/{manage_token(registration)}").get_data(as_text=True)
    assert "EUR 49.00" in manage
