"""Cells of the CSV files we hand out, safe to open in a spreadsheet: the one rule every export
uses against formula injection."""

from __future__ import annotations

import csv
import re
from typing import Any, TextIO

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel in a semicolon locale splits an unquoted `x;=HYPERLINK(…)` into two cells, the second
# a formula; any separator a spreadsheet might split on starts a part that is checked too.
_PARTS = re.compile(r"[;,\t]")
# A phone number in E.164 form: digits behind a plus, which no spreadsheet runs.
_E164 = re.compile(r"^\+[1-9]\d{5,14}$")


def safe_cell(value: Any) -> str:
    """The value as cell text; one that a spreadsheet could run as a formula, in itself or in
    any `;`, `,` or tab-separated part, gets a leading apostrophe."""
    if value is None:
        return ""
    text = str(value)
    if _E164.match(text):
        return text
    if text.startswith(FORMULA_STARTS) or any(
        part.lstrip(" ").startswith(FORMULA_STARTS) for part in _PARTS.split(text)[1:]
    ):
        return "'" + text
    return text


def csv_writer(buffer: TextIO) -> Any:
    """A CSV writer that quotes every cell, so no spreadsheet splits one on a separator of its
    locale (`;`) and the apostrophe `safe_cell` puts in front keeps the whole cell text."""
    return csv.writer(buffer, dialect="excel", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
