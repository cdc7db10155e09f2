"""Report pages: who may see them, charts that are well-formed SVG with titles, and queries that
do not grow with the number of rows."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from app.db import db
from app.events.models import Campaign
from tests.builders import counting_queries, log_in, make_event, make_user, register_person
from tests.test_reports_figures import MAY_12, at, build_spring

SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)
NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def spring(app):  # type: ignore[no-untyped-def]
    return build_spring()


@pytest.fixture
def marketer_client(client):  # type: ignore[no-untyped-def]
    log_in(client, make_user("marketer"))
    return client


def drawings_in(html: str) -> list[ET.Element]:
    # Our own pages' markup: parsing it strictly is the point (well-formed XML or a failure).
    return [ET.fromstring(svg) for svg in SVG.findall(html)]  # noqa: S314


def is_narrow(drawing: ET.Element) -> bool:
    return drawing.find(f"{NS}title").get("id").endswith("-narrow-title")


def charts_in(html: str) -> list[ET.Element]:
    """The desktop drawing of each chart (each also has a phone drawing)."""
    return [drawing for drawing in drawings_in(html) if not is_narrow(drawing)]


def test_event_report_shows_the_numbers_and_three_titled_charts(marketer_client, spring):
    response = marketer_client.get("/admin/events/launch-webinar/report")

    assert response.status_code == 200
    page = response.text
    assert 'id="figure-registered">5<' in page
    assert 'id="figure-attended">3<' in page
    assert "60%" in page
    charts = charts_in(page)
    assert len(charts) == 3
    titles = [chart.find(f"{NS}title").text for chart in charts]
    assert titles == [
        "Registrations per day",
        "Funnel: registered to converted",
        "Registrations by utm source and medium",
    ]
    for chart in charts:
        assert chart.get("role") == "img"
        assert chart.find(f"{NS}desc").text
        labelled = chart.get("aria-labelledby").split()
        assert labelled == [chart.find(f"{NS}title").get("id"), chart.find(f"{NS}desc").get("id")]


def test_each_chart_is_drawn_again_for_a_phone_with_the_same_title_and_words(
    marketer_client, spring
):
    page = marketer_client.get("/admin/events/launch-webinar/report").text

    drawings = drawings_in(page)
    wide = [drawing for drawing in drawings if not is_narrow(drawing)]
    narrow = [drawing for drawing in drawings if is_narrow(drawing)]
    assert len(wide) == len(narrow) == 3
    for desktop, phone in zip(wide, narrow, strict=True):
        assert phone.get("viewBox").startswith("0 0 320 ")
        assert desktop.get("viewBox").startswith("0 0 720 ")
        assert phone.find(f"{NS}title").text == desktop.find(f"{NS}title").text
        assert int(phone.get("font-size")) >= 12
    funnel_words = [text.text for text in narrow[1].iter(f"{NS}text")]
    assert {"Registered", "5 (100%)", "3 (60%)"} <= set(funnel_words)
    assert "2 registered, 2 attended" in [text.text for text in narrow[2].iter(f"{NS}text")]


def test_reports_lead_to_lead_quality_and_the_crm_exports(marketer_client, spring):
    page = marketer_client.get("/admin/reports").text

    assert 'href="/admin/feedback"' in page
    assert 'href="/admin/leads.csv?crm=salesforce"' in page
    assert 'href="/admin/leads.csv?crm=hubspot"' in page
    quality = marketer_client.get("/admin/feedback").text
    nav = quality.split('class="console-nav"', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'aria-current="page">([^<]+)<', nav) == ["Reports"]
    export = marketer_client.get("/admin/leads.csv?crm=hubspot")
    assert export.status_code == 200 and export.mimetype == "text/csv"


def test_charts_carry_their_values_as_text_not_only_as_bar_lengths(marketer_client, spring):
    page = marketer_client.get("/admin/events/launch-webinar/report").text

    over_time, funnel, sources = charts_in(page)
    assert {"Registrations", "2", "1"} <= {text.text for text in over_time.iter(f"{NS}text")}
    funnel_words = [text.text for text in funnel.iter(f"{NS}text")]
    assert "5 (100%)" in funnel_words
    assert "3 (60%)" in funnel_words
    assert "1 (20%)" in funnel_words
    source_words = [text.text for text in sources.iter(f"{NS}text")]
    assert "3 registered, 1 attended" in source_words
    # Attended is told apart by a hatch pattern, and named in a legend.
    assert sources.find(f".//{NS}pattern") is not None
    assert "Attended" in source_words


def test_each_chart_has_a_data_table_with_the_same_numbers(marketer_client, spring):
    page = marketer_client.get("/admin/events/launch-webinar/report").text

    funnel_table = page[page.index('id="funnel-table"') :]
    assert re.search(r"Followed up</th><td class=\"num\">4<", funnel_table)
    sources_table = page[page.index('id="sources-table"') :]
    assert '<td>linkedin</td><td>social</td><td class="num">2</td>' in sources_table
    assert "Registrations per day" in page


def test_campaign_report_covers_its_events(marketer_client, spring):
    campaign = db.session.scalar(db.select(Campaign).where(Campaign.name == "Spring launch"))

    response = marketer_client.get(f"/admin/reports/campaigns/{campaign.id}")

    assert response.status_code == 200
    assert 'id="figure-registered">6<' in response.text
    assert "follow-up-webinar" in response.text
    assert len(charts_in(response.text)) == 3


def test_reports_overview_links_campaigns_and_events(marketer_client, spring):
    response = marketer_client.get("/admin/reports")

    assert response.status_code == 200
    assert "/admin/events/launch-webinar/report" in response.text
    assert "Spring launch" in response.text


def test_an_event_with_no_registrations_still_has_a_report(marketer_client, app):
    make_event(slug="quiet")

    response = marketer_client.get("/admin/events/quiet/report")

    assert response.status_code == 200
    assert "No registrations yet." in response.text
    for chart in charts_in(response.text):
        assert chart.find(f"{NS}title") is not None


def test_unknown_event_or_campaign_is_a_404(marketer_client, app):
    assert marketer_client.get("/admin/events/nope/report").status_code == 404
    assert marketer_client.get("/admin/reports/campaigns/999").status_code == 404


@pytest.mark.parametrize(
    "path", ["/admin/reports", "/admin/events/launch-webinar/report", "/admin/reports/campaigns/1"]
)
def test_reps_may_not_see_reports(client, spring, path):
    log_in(client, make_user("rep"))

    assert client.get(path).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, spring):
    response = client.get("/admin/reports")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_report_queries_do_not_grow_with_registrations(marketer_client, app):
    event = make_event(slug="growing", starts_at=MAY_12, campaign="Growth")
    register_person(event, "first@example.com", now=at(1), utm_source="a")
    with counting_queries() as few:
        assert marketer_client.get("/admin/events/growing/report").status_code == 200
        assert marketer_client.get("/admin/reports").status_code == 200
    for n in range(12):
        register_person(
            event, f"p{n}@example.com", now=at(1) + timedelta(days=n), utm_source=f"s{n % 4}"
        )
        make_event(slug=f"other-{n}", campaign=f"Campaign {n}")

    with counting_queries() as many:
        assert marketer_client.get("/admin/events/growing/report").status_code == 200
        assert marketer_client.get("/admin/reports").status_code == 200

    assert len(many) == len(few)
