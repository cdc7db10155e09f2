"""CSV files in and out: cells we hand out, safe to open in a spreadsheet (the one rule every
export uses against formula injection), and the separator of a file we are given."""

from __future__ import annotations

import csv
import re
from collections import Counter
from typing import Any, TextIO

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel in a semicolon locale splits an unquoted `x;=HYPERLINK(…)` into two cells, the second
# a formula; any separator a spreadsheet might split on starts a part that is checked too.
_PARTS = re.compile(r"[;,\t]")
# How many of an upload's lines decide its separator (see `dialect_of`).
SNIFF_LINES = 200
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


def dialect_of(sample: str) -> type[csv.Dialect]:
    """The CSV dialect of an upload, from its first lines: the separator that splits the most
    of them into the same number (above one) of cells, the wider rows counting for more; the
    tools all quote with `"`.

    Width counts because Teams writes unquoted dates with a comma (`5/12/26, 4:58:10 PM`) in
    its tab- or `;`-separated rows: split at commas, every row has three cells, which would
    otherwise outnumber the participants' seven.

    Not csv.Sniffer: its quote guess is a regular expression whose work grows with the square
    of its input (64 KB of `"` and line breaks cost it over a minute of CPU). Reading the
    first lines once per candidate separator is linear, and multi-section reports, whose
    lines have every length, no longer defeat it: the attendee rows outnumber the rest.
    """
    lines = sample.splitlines()[:SNIFF_LINES]
    best, most = ",", 0
    for delimiter in ",;\t|":
        widths = Counter(len(row) for row in csv.reader(lines, delimiter=delimiter) if len(row) > 1)
        agreeing = max(((width - 1) * count for width, count in widths.items()), default=0)
        if agreeing > most:
            best, most = delimiter, agreeing

    class Found(csv.excel):
        delimiter = best

    return Found
