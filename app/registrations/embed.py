"""/e/<slug>/embed: the landing form for another site's page, framed by `static/embed.js`.

Only this view may be framed, and only by the origins of `app.embedding`. Its post carries no
session CSRF token: a browser sends no SameSite=Lax cookie from inside a third-party frame,
and making the console's session cookie SameSite=None would expose the console. The form is
anonymous, so what a token would prove (the post comes from our page) is proven by the
form's signed `served` stamp, bound to the event and a day old at most.
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from app.embedding import allowed_origins, last_allowed_origins, remember_allowed_origins
from app.events.services import by_slug
from app.extensions import csrf, limiter
from app.registrations import bp
from app.registrations.routes import TOO_MANY_POSTS, landing_page, landing_rate
from app.security import allow_framing_by


@bp.route("/e/<slug>/embed", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit(landing_rate, methods=["POST"], error_message=TOO_MANY_POSTS)
def embed(slug: str) -> Response | str | tuple[str, int]:
    # Framed as last time before the database is asked: if it is down, the outage page then
    # shows in the partner's frame instead of a frame the browser refuses.
    allow_framing_by(last_allowed_origins(slug))
    event = by_slug(slug)
    origins = allowed_origins(event.embed_origins if event else None)
    if event is not None:
        remember_allowed_origins(slug, origins)
    allow_framing_by(origins)
    return landing_page(slug, embed=True)
