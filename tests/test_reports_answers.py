"""The event report breaks each choice question's answers down per option."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from app.db import db
from app.registrations.models import Question
from app.registrations.questions import add_question, change_question, remove_question
from app.registrations.services import cancel
from app.reports.answers import answer_breakdowns
from tests.builders import log_in, make_user, register_person

SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)
NS = "{http://www.w3.org/2000/svg}"


def ask_and_answer(event):  # type: ignore[no-untyped-def]
    size = add_question(
        event.id, {"key": "size", "label": "Team", "type": "select", "options": ["S", "M", "L"]}
    )
    add_question(
        event.id,
        {"key": "topics", "label": "Topics", "type": "multiselect", "options": ["A", "B"]},
    )
    add_question(event.id, {"key": "demo", "label": "Demo", "type": "checkbox"})
    add_question(event.id, {"key": "hq", "label": "HQ", "type": "country"})
    add_question(event.id, {"key": "notes", "label": "Notes", "type": "text"})
    register_person(
        event, "a@x.example", answers={"size": "S", "topics": ["A", "B"], "demo": True, "hq": "DE"}
    )
    register_person(event, "b@x.example", answers={"size": "S", "topics": ["A"], "hq": "DE"})
    register_person(event, "c@x.example", answers={"size": "L", "demo": False, "hq": "FR"})
    gone = register_person(event, "d@x.example", answers={"size": "M", "demo": True})
    cancel(gone.id)
    return size


def test_each_choice_question_counts_registrants_per_option(app, event):
    ask_and_answer(event)

    by_key = {breakdown.key: breakdown for breakdown in answer_breakdowns(event)}

    assert list(by_key) == ["size", "topics", "demo", "hq"]  # text questions have no options
    # Every offered option shows, chosen or not; the cancelled registration does not count.
    assert by_key["size"].options == [("S", 2), ("M", 0), ("L", 1)]
    assert (by_key["size"].answered, by_key["size"].unanswered) == (3, 0)
    assert by_key["topics"].options == [("A", 2), ("B", 1)]
    assert (by_key["topics"].answered, by_key["topics"].unanswered) == (2, 1)
    assert by_key["demo"].options == [("yes", 1), ("no", 1)]
    assert by_key["demo"].unanswered == 1
    assert by_key["hq"].options == [("Germany", 2), ("France", 1)]


def test_an_option_no_longer_offered_still_counts_after_the_offered_ones(app, event):
    size = ask_and_answer(event)
    change_question(size, {"options": ["S", "L"]})

    (first, *_rest) = answer_breakdowns(event)

    assert first.options == [("S", 2), ("L", 1)]
    remove_question(db.session.get(Question, size.id))
    assert [breakdown.key for breakdown in answer_breakdowns(event)] == ["topics", "demo", "hq"]


def test_the_report_page_draws_a_titled_chart_and_a_table_per_question(app, client, event):
    ask_and_answer(event)
    log_in(client, make_user("marketer"))

    page = client.get(f"/admin/events/{event.slug}/report").text

    charts = [ET.fromstring(svg) for svg in SVG.findall(page)]  # noqa: S314 (our own markup)
    # Each chart comes drawn for a desktop, then for a phone.
    titles = [chart.find(f"{NS}title").text for chart in charts][::2]
    assert titles[3:] == ["Answers: Team", "Answers: Topics", "Answers: Demo", "Answers: HQ"]
    table = page.split('id="answers-size-table"')[1].split("</table>")[0]
    assert re.search(r'<th scope="row">S</th><td class="num">2</td>\s*<td class="num">67%', table)
    assert re.search(r'<th scope="row">No answer</th><td class="num">0</td>', table)


def test_the_answer_breakdown_is_for_marketers(app, client, event):
    ask_and_answer(event)
    log_in(client, make_user("rep", "rep@example.com"))

    assert client.get(f"/admin/events/{event.slug}/report").status_code == 403
