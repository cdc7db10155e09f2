"""Report pages in the console: every event and campaign, then one event's or campaign's report."""

from __future__ import annotations

from flask import abort, render_template
from markupsafe import Markup

from app.auth.access import roles_required
from app.db import db
from app.events.models import Campaign
from app.events.services import by_slug
from app.reports import bp, figures
from app.reports.answers import Breakdown, answer_breakdowns
from app.reports.charts import Bar, bar_chart, column_chart


@bp.get("/admin/reports")
@roles_required("marketer")
def index() -> str:
    events, campaigns = figures.overview()
    return render_template("admin/reports.html", events=events, campaigns=campaigns)


@bp.get("/admin/reports/campaigns/<int:campaign_id>")
@roles_required("marketer")
def campaign(campaign_id: int) -> str:
    found = db.session.get(Campaign, campaign_id)
    if found is None:
        abort(404, "There is no such campaign.")
    report = figures.campaign_report(found)
    return render_template(
        "admin/report.html", report=report, campaign=found, event=None, charts=_charts(report)
    )


@bp.get("/admin/events/<slug>/report")
@roles_required("marketer")
def event(slug: str) -> str:
    found = by_slug(slug)
    if found is None:
        abort(404, "There is no event at this address.")
    report = figures.event_report(found)
    marker = _event_day_index(report, found.local_start.date())
    breakdowns = answer_breakdowns(found)
    return render_template(
        "admin/report.html",
        report=report,
        campaign=found.campaign,
        event=found,
        charts=_charts(report, marker),
        breakdowns=[(breakdown, _answer_chart(breakdown)) for breakdown in breakdowns],
    )


def _event_day_index(report: figures.Report, day: object) -> int | None:
    for index, period in enumerate(report.periods):
        if period.starts == day:
            return index
    return None


def _charts(report: figures.Report, event_day: int | None = None) -> dict[str, Markup]:
    unit = "week" if report.per_week else "day"
    total = sum(period.count for period in report.periods)
    busiest = max(report.periods, key=lambda period: period.count, default=None)
    over_time = column_chart(
        "over-time",
        f"Registrations per {unit}",
        (
            f"{total} registrations over {len(report.periods)} {unit}s"
            + (f"; the most, {busiest.count}, on {busiest.label}." if busiest else ".")
        ),
        [Bar(period.label, period.count) for period in report.periods],
        x_label="Week starting" if report.per_week else f"Day ({report.zone})",
        y_label="Registrations",
        marker=(event_day, "Event day") if event_day is not None else None,
    )
    stages = report.funnel.stages()
    registered = report.funnel.registered
    funnel = bar_chart(
        "funnel",
        "Funnel: registered to converted",
        "; ".join(f"{label}: {count}" for label, count in stages) + ".",
        [Bar(label, count, note=_with_share(count, registered)) for label, count in stages],
        value_label="People",
    )
    sources = _registered_and_attended(
        "sources",
        "Registrations by utm source and medium",
        [
            (
                f"{row.source} / {row.medium}",
                row.registered,
                row.attended,
                f"{row.registered} registered, {row.attended} attended",
            )
            for row in report.sources
        ],
    )
    links = _registered_and_attended(
        "links",
        "Registrations by source link",
        [
            (
                row.name,
                row.registered,
                row.attended,
                f"{row.visits} visits, {row.registered} registered, {row.attended} attended, "
                f"{row.qualified} qualified",
            )
            for row in report.links
        ],
    )
    return {"over_time": over_time, "funnel": funnel, "sources": sources, "links": links}


def _registered_and_attended(
    chart_id: str, title: str, rows: list[tuple[str, int, int, str]]
) -> Markup:
    """One bar per (label, registered, attended, summary): registrations, attendance hatched
    inside; the summaries make the chart's description."""
    return bar_chart(
        chart_id,
        title,
        "; ".join(f"{label}: {summary}" for label, _, _, summary in rows) + ".",
        [
            Bar(
                label,
                registered,
                part=attended,
                note=f"{registered} registered, {attended} attended",
            )
            for label, registered, attended, _ in rows
        ],
        value_label="Registered",
        part_label="Attended",
    )


def _answer_chart(breakdown: Breakdown) -> Markup:
    return bar_chart(
        f"answers-{breakdown.key}",
        f"Answers: {breakdown.label}",
        "; ".join(f"{option}: {count}" for option, count in breakdown.options)
        + f"; no answer: {breakdown.unanswered}.",
        [
            Bar(option, count, note=_with_share(count, breakdown.registered))
            for option, count in breakdown.options
        ],
        value_label="Registrants",
    )


def _with_share(count: int, whole: int) -> str:
    if not whole:
        return str(count)
    return f"{count} ({count / whole:.0%})"
