"""Reading crafted attendance files: each hostile 64 KB file's parse time as a ratio to a normal
attendee report of the same size, measured in the same run.

    .venv/bin/python bench/attendance_parse.py [--size 65536] [--repeat 5]

The crafted files aim at the parser's costly parts: the CSV sniffer's quote guess (whose work
grew with the square of its input: one 64 KB file of quotes and line breaks cost 37 s of CPU),
very wide rows, long cells in the time columns, rows that look like headers. No database is
needed: the parser reads bytes and knows only the event's time zone and start.
Target: every crafted file <= 10x the normal report. The work is linear in the rows now; the
crafted files hold up to 20 times the normal report's rows in the same bytes, which sets
the ratio (before the fix the first file was some 5,000x).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.events.models import Event  # noqa: E402
from app.followup.attendance import AttendanceFileError, read_report  # noqa: E402

TARGET = 10.0


def normal(size: int) -> bytes:
    head = "Email,Join Time,Leave Time,Time in Session (minutes)\n"
    row = "person{:06d}@example.com,05/04/2026 10:58:01 AM,05/04/2026 11:58:01 AM,60\n"
    count = (size - len(head)) // len(row.format(0))
    return (head + "".join(row.format(n) for n in range(count))).encode()


def crafted(size: int) -> dict[str, bytes]:
    header = b"email,minutes,join time\n"
    return {
        "quotes and line breaks (sniffer)": b'"\n' * (size // 2),
        "quoted cells, no separators": b'"a"\n' * (size // 4),
        "one line of separators": b"email" + b"," * (size - 5),
        "headers only": b"email,minutes\n" * (size // 14),
        "long times": header + (b"a@example.com,1,May " + b"9" * 2000 + b"\n") * (size // 2030),
        "wide rows": header + (b"a@example.com," + b"1," * 499 + b"\n") * (size // 1012),
    }


def parse_seconds(data: bytes, event: Event, repeat: int) -> tuple[float, str]:
    best, outcome = float("inf"), ""
    for _ in range(repeat):
        start = time.process_time()
        try:
            report = read_report(io.BytesIO(data), event)
            outcome = f"read, {report.rows} rows"
        except AttendanceFileError as exc:
            outcome = f"refused: {exc.message[:60]}"
        best = min(best, time.process_time() - start)
    return best, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64 * 1024)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    event = Event(timezone="America/New_York", starts_at=datetime(2026, 5, 4, 15, tzinfo=UTC))
    reference, _ = parse_seconds(normal(args.size), event, args.repeat)
    print(f"normal report, {args.size} bytes: {reference * 1000:.1f} ms CPU")
    worst = 0.0
    for name, data in crafted(args.size).items():
        seconds, outcome = parse_seconds(data, event, args.repeat)
        ratio = seconds / reference
        worst = max(worst, ratio)
        print(f"{name:36} {len(data):6} bytes {seconds * 1000:8.1f} ms  {ratio:5.1f}x  {outcome}")
    print(f"worst ratio {worst:.1f}x (target <= {TARGET}x): {'ok' if worst <= TARGET else 'SLOW'}")
    sys.exit(0 if worst <= TARGET else 1)


if __name__ == "__main__":
    main()
