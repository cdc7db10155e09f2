"""Which item of the console's navigation the current page belongs to, so the layout marks
exactly that one with aria-current="page"."""

from __future__ import annotations

from flask import has_request_context, request

from app.admin import bp

# Path prefixes, most specific first; the first that matches names the section.
SECTIONS = (
    ("/admin/reports", "reports"),
    ("/admin/feedback", "reports"),  # lead quality, reached from Reports
    ("/admin/routing", "routing"),
    ("/admin/tokens", "tokens"),
    ("/admin/people", "people"),
    ("/admin/webhooks", "webhooks"),
    ("/admin/operations", "operations"),
    ("/admin/settings", "settings"),
    ("/followups", "followups"),
    ("/leads", "leads"),  # a person's page and the search
    ("/companies", "leads"),  # a company's page, reached from its people
    ("/admin", "events"),
)


def section_of(path: str, endpoint: str | None) -> str | None:
    """The navigation item for a page: an event's own report is a report, the rest of an
    event's pages are under Events."""
    if endpoint and endpoint.startswith("reports."):
        return "reports"
    for prefix, section in SECTIONS:
        if path == prefix or path.startswith(prefix + "/"):
            return section
    return None


@bp.app_context_processor
def current_section() -> dict[str, str | None]:
    # Every page in the console's layout, the reps' and the sign-in pages included; emails
    # the worker writes have no page.
    if not has_request_context():
        return {}
    return {"nav_section": section_of(request.path, request.endpoint)}
