"""A local fake of the Stripe API on loopback, for tests that point stripe-python at it."""

from __future__ import annotations

import copy
import html
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
import stripe
from stripe._api_version import _ApiVersion

SECRET_KEY = "sk_test_fake"
WEBHOOK_SECRET = "whsec_test_fake"

# Stripe's window for a Checkout Session's expires_at, with a little slack for clock skew
# between the moment the app computes it and the moment we check it.
MIN_EXPIRY = 30 * 60
MAX_EXPIRY = 24 * 60 * 60
SLACK = 5


@dataclass(frozen=True)
class Call:
    """One API request the fake received, as the client sent it."""

    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None


class Refusal(Exception):
    """A Stripe-style error answer: the HTTP status and the body's `error` object."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = {"type": type, "code": code, "message": message, "param": param}


def parse_form(encoded: str) -> dict[str, Any]:
    """Stripe's form encoding as nested data: `a[b][0][c]=x`, `expand[]=x` give dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(encoded, keep_blank_values=True):
        head, _, rest = key.partition("[")
        parts = [head, *(rest[:-1].split("][") if rest else [])]
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part or str(len(node)), {})
            if not isinstance(node, dict):
                raise Refusal(400, f"Invalid nested parameter: {key}", param=head)
        node[parts[-1] or str(len(node))] = value
    return _with_lists(root)


def _with_lists(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    items = {key: _with_lists(inner) for key, inner in value.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


def _integer(params: dict[str, Any], name: str) -> int:
    try:
        return int(params[name])
    except (TypeError, ValueError):
        raise Refusal(400, f"Invalid integer: {params[name]}", param=name) from None


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _missing(param: str) -> Refusal:
    return Refusal(400, f"Missing required param: {param}.", code="parameter_missing", param=param)


def _no_such(kind: str, id: str, param: str) -> Refusal:
    return Refusal(404, f"No such {kind}: '{id}'", code="resource_missing", param=param)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.fake._answer(self, "GET")

    def do_POST(self) -> None:
        self.server.fake._answer(self, "POST")

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeStripe


class FakeStripe:
    """Sessions, payment intents, charges and refunds kept in memory, served like api.stripe.com."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.sessions: dict[str, dict[str, Any]] = {}
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.requests: list[Call] = []
        self.events: list[dict[str, Any]] = []
        self.deliveries: list[tuple[str, int]] = []  # (event id, status) sent from the pay page
        self.webhook_target: str | None = None
        self.webhook_secret: str | None = None
        self._idempotent: dict[str, tuple[tuple[str, str, dict[str, Any]], str]] = {}
        self._failures: list[dict[str, Any]] = []
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., dict[str, Any]]]] = [
            ("POST", re.compile(r"/v1/checkout/sessions"), self._create_session),
            ("GET", re.compile(r"/v1/checkout/sessions/([^/]+)"), self._retrieve_session),
            ("POST", re.compile(r"/v1/checkout/sessions/([^/]+)/expire"), self._expire),
            ("POST", re.compile(r"/v1/refunds"), self._create_refund),
            ("GET", re.compile(r"/v1/payment_intents/([^/]+)"), self._retrieve_payment_intent),
        ]

    def start(self) -> FakeStripe:
        # A short poll keeps stop() quick: shutdown waits for the loop's next poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        *,
        status: int = 402,
        error_type: str = "card_error",
        message: str = "The fake Stripe was told to fail this request.",
        code: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` matching calls with this error. stripe-python picks the
        exception by status: 402 CardError, 400/404 InvalidRequestError, 429 RateLimitError,
        other 5xx APIError. Like a request lost before Stripe ran it, it is not kept for
        idempotent replay."""
        refusal = Refusal(status, message, type=error_type, code=code)
        with self._lock:
            self._failures.append(
                {"method": method.upper(), "prefix": path_prefix, "refusal": refusal, "left": times}
            )

    # --- HTTP ---

    def _answer(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        headers: dict[str, str] = {}
        try:
            if url.path.startswith("/pay/"):
                status, content, headers = self._page(method, unquote(url.path[5:]))
                content_type = "text/html; charset=utf-8"
            else:
                params = parse_form(url.query if method == "GET" else body)
                status, content, headers = self._api(method, url.path, params, handler.headers)
                content_type = "application/json"
        except Exception as error:
            # A bug in the fake should read as a Stripe outage, not as a dropped connection.
            if not isinstance(error, Refusal):
                error = Refusal(500, repr(error), type="api_error")
            status, content = error.status, json.dumps({"error": error.error})
            content_type = "application/json"
        data = content.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Request-Id", _new_id("req"))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _api(
        self, method: str, path: str, params: dict[str, Any], headers: Any
    ) -> tuple[int, str, dict[str, str]]:
        authorization = headers.get("Authorization", "")
        if not authorization.startswith("Bearer sk_test_"):
            raise Refusal(401, f"Invalid API Key provided: {authorization[7:] or '(none)'}")
        key = headers.get("Idempotency-Key") if method == "POST" else None
        with self._lock:
            self.requests.append(Call(method, path, params, key))
            for failure in self._failures:
                if failure["method"] == method and path.startswith(failure["prefix"]):
                    failure["left"] -= 1
                    if not failure["left"]:
                        self._failures.remove(failure)
                    raise failure["refusal"]
            if key and key in self._idempotent:
                request, content = self._idempotent[key]
                if request != (method, path, params):
                    raise Refusal(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters "
                        f"they were first used with. Try using a key other than '{key}' if you "
                        "meant to execute a different request.",
                        type="idempotency_error",
                    )
                return 200, content, {"Idempotent-Replayed": "true"}
            for route_method, pattern, endpoint in self._routes:
                match = pattern.fullmatch(path)
                if route_method == method and match:
                    content = json.dumps(endpoint(params, *map(unquote, match.groups())))
                    # Only successes are kept: an error answer lets the caller retry the key.
                    if key:
                        self._idempotent[key] = ((method, path, params), content)
                    return 200, content, {}
        raise Refusal(404, f"Unrecognized request URL ({method}: {path}).")

    # --- API endpoints (called with the lock held) ---

    def _create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        if "mode" not in params:
            raise _missing("mode")
        if params["mode"] != "payment":
            raise Refusal(400, "This fake supports only mode=payment.", param="mode")
        if not params.get("success_url"):
            raise _missing("success_url")
        items = params.get("line_items")
        if not isinstance(items, list) or not items:
            raise _missing("line_items")
        amount_total, currencies = 0, set()
        for index, item in enumerate(items):
            try:
                price = item["price_data"]
                currencies.add(price["currency"].lower())
                _ = price["product_data"]["name"]  # required by Stripe, unused here
                amount_total += int(price["unit_amount"]) * int(item["quantity"])
            except (KeyError, TypeError, ValueError, AttributeError):
                raise Refusal(
                    400,
                    f"line_items[{index}] needs price_data[currency], price_data[unit_amount], "
                    "price_data[product_data][name] and quantity.",
                    param=f"line_items[{index}]",
                ) from None
        if len(currencies) != 1:
            raise Refusal(400, "All line items must share one currency.", param="line_items")
        now = int(time.time())
        expires_at = _integer(params, "expires_at") if "expires_at" in params else now + MAX_EXPIRY
        if expires_at < now + MIN_EXPIRY - SLACK:
            raise Refusal(
                400,
                "The `expires_at` timestamp must be at least 30 minutes from Checkout Session "
                "creation.",
                param="expires_at",
            )
        if expires_at > now + MAX_EXPIRY + SLACK:
            raise Refusal(
                400,
                "The `expires_at` timestamp must be less than 24 hours from Checkout Session "
                "creation.",
                param="expires_at",
            )
        id = _new_id("cs_test")
        self.sessions[id] = {
            "id": id,
            "object": "checkout.session",
            "url": f"{self.url}/pay/{id}",
            "status": "open",
            "payment_status": "unpaid",
            "mode": "payment",
            "client_reference_id": params.get("client_reference_id"),
            "metadata": copy.deepcopy(params.get("metadata", {})),
            "customer_email": params.get("customer_email"),
            "amount_total": amount_total,
            "currency": currencies.pop(),
            "expires_at": expires_at,
            "payment_intent": None,
            "success_url": params["success_url"],
            "cancel_url": params.get("cancel_url"),
            "created": now,
            "livemode": False,
        }
        return self.sessions[id]

    def _retrieve_session(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        if id not in self.sessions:
            raise _no_such("checkout.session", id, "session")
        session = self.sessions[id]
        if "payment_intent" in params.get("expand", []) and session["payment_intent"]:
            return {**session, "payment_intent": self.payment_intents[session["payment_intent"]]}
        return session

    def _expire(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        session = self._retrieve_session(params, id)
        if session["status"] != "open":
            raise Refusal(400, 'Only Checkout Sessions with a status in ["open"] can be expired.')
        session.update(status="expired", url=None)
        return session

    def _create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        if "payment_intent" not in params:
            raise _missing("payment_intent")
        amount = _integer(params, "amount") if "amount" in params else None
        metadata = copy.deepcopy(params.get("metadata", {}))
        return self._refund(params["payment_intent"], amount, metadata)

    def _retrieve_payment_intent(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        if id not in self.payment_intents:
            raise _no_such("payment_intent", id, "intent")
        return self.payment_intents[id]

    def _refund(
        self, payment_intent_id: str, amount: int | None, metadata: dict[str, Any]
    ) -> dict[str, Any]:
        intent = self.payment_intents.get(payment_intent_id)
        if intent is None:
            raise Refusal(
                400,
                f"No such payment_intent: '{payment_intent_id}'",
                code="resource_missing",
                param="payment_intent",
            )
        charge = self.charges[intent["latest_charge"]]
        if charge["status"] != "succeeded":
            raise Refusal(
                400,
                f"This PaymentIntent ({payment_intent_id}) does not have a successful charge "
                "to refund.",
                param="payment_intent",
            )
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining == 0:
            raise Refusal(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = remaining if amount is None else amount
        if not 0 < amount <= remaining:
            raise Refusal(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                f"({remaining}).",
                code="amount_too_large",
                param="amount",
            )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        id = _new_id("re")
        self.refunds[id] = {
            "id": id,
            "object": "refund",
            "amount": amount,
            "currency": charge["currency"],
            "payment_intent": payment_intent_id,
            "charge": charge["id"],
            "status": "succeeded",
            "metadata": metadata,
            "created": int(time.time()),
        }
        return self.refunds[id]

    # --- What happens on Stripe's side, each returning the event Stripe would send ---

    def event(self, type: str, obj: dict[str, Any]) -> dict[str, Any]:
        """A webhook event carrying a snapshot of `obj`; recorded in `events`."""
        event = {
            "id": _new_id("evt"),
            "object": "event",
            # The version this client pins, as Stripe stamps events with the endpoint's version.
            "api_version": _ApiVersion.CURRENT,
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "type": type,
            "data": {"object": copy.deepcopy(obj)},
        }
        self.events.append(event)
        return event

    def pay(self, session_id: str, *, delayed: bool = False) -> dict[str, Any]:
        """The customer pays; `delayed` is a bank debit still processing."""
        with self._lock:
            session = self.sessions[session_id]
            if session["status"] != "open":
                raise ValueError(f"{session_id} is {session['status']}, not open")
            intent_id, charge_id = _new_id("pi"), _new_id("ch")
            amount, currency = session["amount_total"], session["currency"]
            self.charges[charge_id] = {
                "id": charge_id,
                "object": "charge",
                "amount": amount,
                "amount_refunded": 0,
                "refunded": False,
                "currency": currency,
                "payment_intent": intent_id,
                "status": "pending" if delayed else "succeeded",
                "created": int(time.time()),
            }
            self.payment_intents[intent_id] = {
                "id": intent_id,
                "object": "payment_intent",
                "amount": amount,
                "currency": currency,
                "status": "processing" if delayed else "succeeded",
                "latest_charge": charge_id,
            }
            session.update(
                status="complete",
                url=None,
                payment_intent=intent_id,
                payment_status="unpaid" if delayed else "paid",
            )
            return self.event("checkout.session.completed", session)

    def async_succeeded(self, session_id: str) -> dict[str, Any]:
        with self._lock:
            session = self._settle(session_id, "succeeded", "succeeded")
            session["payment_status"] = "paid"
            return self.event("checkout.session.async_payment_succeeded", session)

    def async_failed(self, session_id: str) -> dict[str, Any]:
        with self._lock:
            session = self._settle(session_id, "requires_payment_method", "failed")
            return self.event("checkout.session.async_payment_failed", session)

    def _settle(self, session_id: str, intent_status: str, charge_status: str) -> dict[str, Any]:
        session = self.sessions[session_id]
        intent = self.payment_intents[session["payment_intent"]]
        intent["status"] = intent_status
        self.charges[intent["latest_charge"]]["status"] = charge_status
        return session

    def expire_session(self, session_id: str) -> dict[str, Any]:
        with self._lock:
            return self.event("checkout.session.expired", self._expire({}, session_id))

    def refund_in_dashboard(
        self, payment_intent_id: str, amount: int | None = None
    ) -> dict[str, Any]:
        """Someone refunds from Stripe's dashboard, outside the app."""
        with self._lock:
            refund = self._refund(payment_intent_id, amount, {})
            return self.event("charge.refunded", self.charges[refund["charge"]])

    # --- Webhooks ---

    @staticmethod
    def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
        """The Stripe-Signature header for this body."""
        return stripe.WebhookSignature.generate_signature_header(
            payload.decode(), secret, timestamp
        )

    def deliver(
        self,
        target: Any,
        event: dict[str, Any],
        secret: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> tuple[int, bytes]:
        """POST the event to `/stripe/webhook` on a Flask test client or a base URL."""
        payload = json.dumps(event).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signature or self.sign(payload, secret, timestamp),
        }
        if hasattr(target, "post"):
            response = target.post("/stripe/webhook", data=payload, headers=headers)
            return response.status_code, response.get_data()
        request = urllib.request.Request(
            f"{target.rstrip('/')}/stripe/webhook", data=payload, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    # --- The hosted checkout page, for browser tests ---

    def _page(self, method: str, session_id: str) -> tuple[int, str, dict[str, str]]:
        with self._lock:
            session = copy.deepcopy(self.sessions.get(session_id))
        if session is None:
            return 404, _html("<h1>Unknown checkout session</h1>"), {}
        if session["status"] != "open":
            return 200, _html("<h1>This checkout session is no longer available</h1>"), {}
        if method == "GET":
            amount = f"{session['currency'].upper()} {session['amount_total'] / 100:.2f}"
            back = session["cancel_url"]
            return (
                200,
                _html(
                    f"<h1>Pay {html.escape(amount)}</h1>"
                    f"<p>Email: {html.escape(session['customer_email'] or '')}</p>"
                    f'<form method="post" action="/pay/{html.escape(session_id)}">'
                    '<button type="submit">Pay</button></form>'
                    + (f'<p><a href="{html.escape(back)}">Back</a></p>' if back else "")
                ),
                {},
            )
        try:
            event = self.pay(session_id)
        except ValueError:  # paid or expired since the page was read, as on a double click
            return 409, _html("<h1>This checkout session is no longer available</h1>"), {}
        if self.webhook_target and self.webhook_secret:
            try:
                status, _ = self.deliver(self.webhook_target, event, self.webhook_secret)
            except OSError:
                status = 0  # the app was not listening
            self.deliveries.append((event["id"], status))
        success_url = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
        return 303, "", {"Location": success_url}


def _html(body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Fake Stripe Checkout</title></head><body><main>{body}</main></body></html>"
    )


def stripe_settings(fake: FakeStripe) -> dict[str, Any]:
    """App settings that point the Stripe gateway at this fake."""
    return {
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": fake.url,
        # A test sees Stripe's first answer; the client's own retries would hide injected errors.
        "STRIPE_MAX_NETWORK_RETRIES": 0,
    }


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    """A running fake Stripe for one test."""
    fake = FakeStripe().start()
    yield fake
    fake.stop()
