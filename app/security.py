"""What every response tells the browser to protect its user: content policy, framing,
referrers, HSTS and caching, set through Flask-Talisman in this one place."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request
from flask_talisman import Talisman
from werkzeug.wrappers import Response

# Pages only staff see, and the sign-in pages leading there: a shared or back-buttoned browser
# must not show them from its cache.
CONSOLE_PREFIXES = ("/admin", "/followups", "/login", "/logout", "/password")
# A registrant's own pages carry a token in their address (manage, unsubscribe and erasure
# links), as do staff's set-your-password links: not cached, and never sent on as a Referer
# to the join link, Stripe or any other site they link to.
TOKEN_PREFIXES = ("/r/", "/u/", "/privacy/", "/password/set/")

# Features no page here uses; a script injected despite the policy gets none of them either.
PERMISSIONS_POLICY = {
    "browsing-topics": "()",
    "camera": "()",
    "microphone": "()",
    "geolocation": "()",
    "payment": "()",
    "usb": "()",
}

talisman = Talisman()


def content_security_policy(*, frame_ancestors: str = "'none'") -> dict[str, str]:
    """The one policy every page gets: scripts, styles and images from this site only.

    `frame_ancestors` is who may put a page in a frame; an embeddable form would get its own
    value here, for its own views, and nothing else changes.
    """
    return {
        "default-src": "'self'",
        # No 'unsafe-inline' anywhere: no template has an inline script, handler or style
        # attribute, and the report charts are SVG styled from the stylesheet.
        "script-src": "'self'",
        "style-src": "'self'",
        # Images in event descriptions (Markdown) may come from any https:// host.
        "img-src": "'self' https:",
        "object-src": "'none'",
        "base-uri": "'none'",
        "frame-ancestors": frame_ancestors,
        # No form-action: the landing form answers a paid registration with a 303 to Stripe
        # Checkout, and Chrome applies form-action to the redirect's target too.
    }


def init_app(app: Flask) -> None:
    """Set the security headers on every response of `app`."""
    # Registered before Talisman's handler, so it runs after it (Flask runs them in reverse).
    app.after_request(_per_page_rules)
    talisman.init_app(
        app,
        # TLS ends at the proxy in front (see PROXY_HOPS); the app never redirects to https.
        force_https=False,
        strict_transport_security=app.config["BASE_URL"].startswith("https://"),
        content_security_policy=content_security_policy(),
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        permissions_policy=PERMISSIONS_POLICY,
        # The cookie settings stay as app.config has them (Secure under an https:// BASE_URL).
        session_cookie_secure=False,
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
        x_content_type_options=True,
    )


def allow_framing_by(origins: Iterable[str]) -> None:
    """Let this response only be framed by this site and `origins` (the embed view)."""
    g.frame_ancestors = " ".join(["'self'", *origins])


def _per_page_rules(response: Response) -> Response:
    path = request.path
    if frame_ancestors := g.get("frame_ancestors"):
        policy = content_security_policy(frame_ancestors=frame_ancestors)
        response.headers["Content-Security-Policy"] = "; ".join(
            f"{name} {value}" for name, value in policy.items()
        )
        # frame-ancestors says who may frame it; DENY would override it in old browsers.
        response.headers.pop("X-Frame-Options", None)
    if path.startswith(TOKEN_PREFIXES):
        response.headers["Referrer-Policy"] = "no-referrer"
    if path.startswith(TOKEN_PREFIXES) or is_console(path):
        response.headers["Cache-Control"] = "no-store"
    return response


def is_console(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in CONSOLE_PREFIXES)


def sent_from_another_site() -> bool:
    """Whether the browser says another site's page made this request (OWASP's "verifying
    origin with standard headers"): `Sec-Fetch-Site: cross-site`, or an `Origin` that names
    neither the host asked nor BASE_URL's (`null` included: a sandboxed or redirected post).

    A request with neither header (not from a browser, or a very old one) is not judged here:
    the form's signed token still has to prove it.
    """
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    host = urlsplit(origin).netloc if origin != "null" else ""
    return not host or host not in (request.host, urlsplit(current_app.config["BASE_URL"]).netloc)
