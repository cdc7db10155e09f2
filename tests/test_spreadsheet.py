"""One rule keeps every CSV export safe to open in a spreadsheet, in any locale: a cell that
could run as a formula, alone or split on `;`, `,` or a tab, keeps its text behind an
apostrophe, and phone numbers in E.164 form stay as they are."""

from __future__ import annotations

import csv
import io

import pytest

from app.spreadsheet import csv_writer, safe_cell
from tests.builders import log_in, make_event, make_user, register_person


@pytest.mark.parametrize(
    ("typed", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ('x;=HYPERLINK("http://evil")', '\'x;=HYPERLINK("http://evil")'),
        ("Acme, -2+3", "'Acme, -2+3"),
        ("a\t@SUM(A1)", "'a\t@SUM(A1)"),
        ("x; +1", "'x; +1"),
        ("+4915112345678", "+4915112345678"),
        ("+1 415 555 0100", "'+1 415 555 0100"),
        ("+1+1", "'+1+1"),
        ("Plain Co; Ltd", "Plain Co; Ltd"),
        ("A=B", "A=B"),
        (None, ""),
        (42, "42"),
    ],
)
def test_a_cell_that_could_run_as_a_formula_in_any_part_gets_an_apostrophe(typed, cell):
    assert safe_cell(typed) == cell


def test_every_cell_is_quoted_so_no_locale_splits_it():
    buffer = io.StringIO()
    csv_writer(buffer).writerow([safe_cell("x;=1+1"), "plain"])
    assert buffer.getvalue() == '"\'x;=1+1","plain"\r\n'


def test_both_exports_keep_phones_and_protect_semicolon_formulas(app, client):
    event = make_event()
    register_person(
        event, "x@example.com", company='x;=HYPERLINK("http://evil")', phone="+4915112345678"
    )
    log_in(client, make_user("admin"))
    text = client.get(f"/admin/events/{event.slug}/registrations.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    person = dict(zip(rows[0], rows[1], strict=True))
    assert person["company"] == '\'x;=HYPERLINK("http://evil")'
    assert person["phone"] == "+4915112345678"
    assert all(line.startswith('"') for line in text.lstrip("\ufeff").splitlines())
