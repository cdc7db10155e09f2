"""Registration and landing-page throughput under gunicorn, measured against a bare reference.

    .venv/bin/python bench/registration.py [--seconds 10] [--workers 4] [--threads 4]
    .venv/bin/python bench/registration.py --rush 500   # N registrations arriving at once

Serves the real app (`wsgi:app`) and `bench/reference_app.py` with the same gunicorn settings
on fresh databases: temporary SQLite files, or throwaway PostgreSQL databases created next to
DATABASE_URL (and dropped after) when it names one. Concurrent keep-alive clients on 127.0.0.1
then take turns: registrations with unique emails (the JSON API when it answers, else the
landing-page form), landing-page views, and the reference's one-row insert and static page.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select  # noqa: E402

from bench.databases import empty_databases  # noqa: E402
from tests.servers import app_env, serve  # noqa: E402

SLUG = "bench-webinar"
CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
# This step's targets (issue "The rush"); the long-term goals are 0.5x and 0.6x.
TARGETS = {"registration": 0.3, "landing": 0.5}
GOALS = {"registration": 0.5, "landing": 0.6}
# The registration's p99 may be at most this many times the reference insert's.
P99_TARGET = 3.0
_emails = itertools.count()


# --- databases -------------------------------------------------------------------------------


def prepare_app_database(url: str, instance: Path) -> None:
    """Migrate, then publish one free event with unlimited seats, through the app's services."""
    from flask_migrate import upgrade

    from app import create_app
    from app.db import db, utcnow
    from app.events.services import create_event, update_event

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "bench"}
    )
    with app.app_context():
        upgrade()
        event = create_event(
            {
                "slug": SLUG,
                "title": "Benchmark webinar",
                "description": "What is new this spring, **in one hour**.",
                "starts_at": (utcnow() + timedelta(days=7)).replace(microsecond=0),
                "duration_minutes": 60,
                "timezone": "Europe/Berlin",
                "capacity": None,
                "waitlist": True,
                "join_url": "https://meet.example.com/bench",
                "campaign": "Benchmarks",
            }
        )
        update_event(event, {"status": "published"})
        db.session.remove()
        db.engine.dispose()


def stored_registrations(url: str) -> int:
    from app.registrations.models import Registration

    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(Registration.__table__)).scalar()
    engine.dispose()
    return int(count or 0)


# --- load ------------------------------------------------------------------------------------


class Client:
    """One keep-alive HTTP connection to a server on the loopback interface."""

    def __init__(self, base_url: str) -> None:
        parsed = urlparse(base_url)
        assert parsed.hostname == "127.0.0.1", "load goes to the loopback interface only"
        self.connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
        self.cookie = ""

    def send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            self.connection.close()  # the next request reconnects
            raise
        if cookie := response.getheader("Set-Cookie"):
            self.cookie = cookie.split(";", 1)[0]
        if response.will_close:
            self.connection.close()
        return response.status, data.decode("utf-8", "replace")

    def close(self) -> None:
        self.connection.close()


@dataclass
class Workload:
    """A kind of request: `setup` runs once per client, `step` sends one request (True: ok)."""

    name: str
    server: str
    step: Callable[[Client, Any], bool]
    setup: Callable[[Client], Any] = lambda client: None


def unique_email(kind: str) -> str:
    return f"{kind}-{next(_emails)}@example.com"


def form_token(client: Client) -> str:
    status, html = client.send("GET", f"/e/{SLUG}")
    match = CSRF_INPUT.search(html)
    if status != 200 or match is None:
        raise RuntimeError(f"the landing page answered {status} without a form")
    return match.group(1)


def register_by_form(client: Client, token: str) -> bool:
    # One session and CSRF token per client, as a visitor who registers several people would.
    body = urlencode(
        {"csrf_token": token, "email": unique_email("form"), "first_name": "Bench"}
    ).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _ = client.send("POST", f"/e/{SLUG}", body, headers)
    return status == 303


def register_by_api(client: Client, _state: Any) -> bool:
    body = json.dumps({"email": unique_email("api"), "first_name": "Bench"}).encode()
    headers = {"Content-Type": "application/json"}
    status, _ = client.send("POST", f"/api/v1/events/{SLUG}/registrations", body, headers)
    return status == 201


def api_registers(base_url: str) -> tuple[bool, str]:
    """Whether the JSON API takes registrations, and in a few words why not."""
    client = Client(base_url)
    try:
        status, body = client.send(
            "POST",
            f"/api/v1/events/{SLUG}/registrations",
            json.dumps({"email": unique_email("probe"), "first_name": "Probe"}).encode(),
            {"Content-Type": "application/json"},
        )
    finally:
        client.close()
    return status == 201, f"the API answered {status}"


def view_landing(client: Client, _state: Any) -> bool:
    # A first visit each time: no session cookie. The landing form's token is signed without a
    # server-side session, so a view writes none.
    client.cookie = ""
    status, _ = client.send("GET", f"/e/{SLUG}")
    return status == 200


def view_reference_page(client: Client, _state: Any) -> bool:
    status, _ = client.send("GET", "/page")
    return status == 200


def insert_reference_row(client: Client, _state: Any) -> bool:
    body = urlencode({"email": unique_email("reference")}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _ = client.send("POST", "/insert", body, headers)
    return status == 201


@dataclass
class Measurement:
    ok: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, p: int) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000


def drive(base_url: str, workload: Workload, clients: int, seconds: float) -> Measurement:
    """Run `clients` threads, each sending requests back to back for `seconds`."""
    result = Measurement()
    lock = threading.Lock()
    window: dict[str, float] = {}

    def open_window() -> None:
        # A barrier's action runs before any waiting thread is let go: all see the deadline.
        window["start"] = time.perf_counter()
        window["deadline"] = window["start"] + seconds

    ready = threading.Barrier(clients, action=open_window)

    def run() -> None:
        client = Client(base_url)
        latencies: list[float] = []
        ok = errors = 0
        problems: list[str] = []
        try:
            state = workload.setup(client)
        except Exception as exc:
            ready.abort()
            raise RuntimeError(f"{workload.name}: setting up a client failed: {exc}") from exc
        ready.wait()
        deadline = window["deadline"]
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                good = workload.step(client, state)
            except (http.client.HTTPException, OSError) as exc:
                good = False
                problems.append(repr(exc))
            latencies.append(time.perf_counter() - started)
            if good:
                ok += 1
            else:
                errors += 1
        client.close()
        with lock:
            result.ok += ok
            result.errors += errors
            result.latencies.extend(latencies)
            result.problems.extend(problems[:3])

    threads = [threading.Thread(target=run, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if "start" not in window:
        raise RuntimeError(f"{workload.name}: the clients could not start")
    result.seconds = time.perf_counter() - window["start"]
    return result


def rush(base_url: str, workload: Workload, arrivals: int) -> Measurement:
    """`arrivals` requests sent in the same instant, one per connection (a crowd clicking an
    invitation, not a steady stream); `seconds` is the time until the last was answered."""
    result = Measurement()
    lock = threading.Lock()
    clients = [Client(base_url) for _ in range(arrivals)]
    ready = threading.Barrier(arrivals + 1)

    def arrive(client: Client) -> None:
        ready.wait()
        started = time.perf_counter()
        try:
            good = workload.step(client, None)
            problem = None
        except (http.client.HTTPException, OSError) as exc:
            good, problem = False, repr(exc)
        elapsed = time.perf_counter() - started
        client.close()
        with lock:
            result.latencies.append(elapsed)
            if good:
                result.ok += 1
            else:
                result.errors += 1
                if problem and len(result.problems) < 3:
                    result.problems.append(problem)

    threads = [threading.Thread(target=arrive, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result


def report_rush(totals: dict[str, Measurement], workloads: dict[str, Workload], n: int) -> None:
    print(f"rush: {n} arrivals at once")
    print(f"{'test':<34} {'last answered s':>16} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, total in totals.items():
        print(
            f"{workloads[name].name:<34} {total.seconds:>16.2f} {total.percentile(50):>8.1f} "
            f"{total.percentile(99):>8.1f} {total.errors:>7}"
        )
    registration, reference = totals["registration"], totals["reference insert"]
    late = registration.seconds / reference.seconds
    p99 = registration.percentile(99) / reference.percentile(99)
    print(
        f"registration / reference insert: last answered {late:.2f}x as late, "
        f"p99 {p99:.2f}x (target: p99 <= {P99_TARGET}x)"
    )


# --- the run ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per test")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument(
        "--clients", type=int, default=0, help="concurrent clients (workers x threads)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per test")
    parser.add_argument(
        "--via",
        choices=("auto", "api", "form"),
        default="auto",
        help="how registrations are sent (auto: the JSON API when it takes them, else the form)",
    )
    parser.add_argument(
        "--rush",
        type=int,
        default=0,
        metavar="N",
        help="instead: N registrations (and N reference inserts) arriving at once",
    )
    args = parser.parse_args()
    clients = args.clients or args.workers * args.threads

    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="reserve-bench-")))
        kind, (app_url, reference_url) = stack.enter_context(
            empty_databases(workdir, "app", "reference")
        )
        prepare_app_database(app_url, workdir / "setup-instance")
        settings = {"workers": args.workers, "threads": args.threads}
        app_server = stack.enter_context(
            serve(
                "wsgi:app",
                app_env(app_url, workdir / "app-instance"),
                log=workdir / "app.log",
                **settings,
            )
        )
        reference = stack.enter_context(
            serve(
                "bench.reference_app:app",
                app_env(reference_url, workdir / "reference-instance"),
                log=workdir / "reference.log",
                ready_path="/page",
                **settings,
            )
        )
        via_api, why = (
            (False, "--via form") if args.via == "form" else api_registers(app_server.url)
        )
        if args.via == "api" and not via_api:
            raise SystemExit(f"--via api, but {why}")
        registration = (
            Workload("registration (JSON API)", app_server.url, register_by_api)
            if via_api
            else Workload("registration (form POST)", app_server.url, register_by_form, form_token)
        )
        workloads = {
            "registration": registration,
            "reference insert": Workload("reference insert", reference.url, insert_reference_row),
            "landing": Workload(f"landing page GET /e/{SLUG}", app_server.url, view_landing),
            "reference page": Workload(
                "reference page GET /page", reference.url, view_reference_page
            ),
        }

        if args.rush:
            for name in ("registration", "reference insert"):
                drive(workloads[name].server, workloads[name], clients, 1.0)  # warm up
            made_before = stored_registrations(app_url)
            rushed = {
                name: rush(workloads[name].server, workloads[name], args.rush)
                for name in ("registration", "reference insert")
            }
            stored = stored_registrations(app_url) - made_before
            print(f"database: {kind}; {os.cpu_count()} CPUs")
            report_rush(rushed, workloads, args.rush)
            answered_now = rushed["registration"].ok
            print(f"registrations answered {answered_now}, stored {stored}")
            failed_rush = answered_now != stored or any(m.errors for m in rushed.values())
            for name, measured in rushed.items():
                if measured.errors:
                    print(f"{name}: {measured.errors} failed, e.g. {measured.problems[:3]}")
            return 1 if failed_rush else 0

        print(f"database: {kind}")
        print(
            f"gunicorn: -w {args.workers} -k gthread --threads {args.threads} --preload; "
            f"{clients} keep-alive clients on 127.0.0.1; {os.cpu_count()} CPUs; "
            f"load average before: {os.getloadavg()[0]:.2f}"
        )
        if not via_api:
            print(f"registrations go through the landing-page form ({why})")

        # Warm up every worker (connections, compiled templates and queries), then interleave
        # short rounds so background load on the machine falls on both sides alike.
        answered = {name: drive(w.server, w, clients, 1.0).ok for name, w in workloads.items()}
        totals = {name: Measurement() for name in workloads}
        for _round in range(args.rounds):
            for name, workload in workloads.items():
                measured = drive(workload.server, workload, clients, args.seconds / args.rounds)
                answered[name] += measured.ok
                total = totals[name]
                total.ok += measured.ok
                total.errors += measured.errors
                total.seconds += measured.seconds
                total.latencies.extend(measured.latencies)
                total.problems.extend(measured.problems)
        load_after = os.getloadavg()[0]
        stored = stored_registrations(app_url)

    print()
    print(f"{'test':<34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, total in totals.items():
        print(
            f"{workloads[name].name:<34} {total.rate:>8.0f} {total.percentile(50):>8.1f} "
            f"{total.percentile(99):>8.1f} {total.errors:>7}"
        )
    print()
    failed = False
    for name, reference_name in (
        ("registration", "reference insert"),
        ("landing", "reference page"),
    ):
        ratio = totals[name].rate / totals[reference_name].rate
        target = TARGETS[name]
        verdict = "meets" if ratio >= target else "BELOW"
        print(
            f"{name} / {reference_name}: {ratio:.2f}x ({verdict} the {target}x target; "
            f"long-term goal {GOALS[name]}x)"
        )
    p99_ratio = totals["registration"].percentile(99) / totals["reference insert"].percentile(99)
    verdict = "meets" if p99_ratio <= P99_TARGET else "ABOVE"
    print(f"registration p99 / reference insert p99: {p99_ratio:.2f}x ({verdict} <= {P99_TARGET}x)")
    # Every registration answered as made must be in the database, no more and no fewer.
    made = answered["registration"] + (1 if via_api else 0)
    print(f"load average after: {load_after:.2f}; registrations answered {made}, stored {stored}")
    if made != stored:
        failed = True
    for name, total in totals.items():
        if total.errors:
            failed = True
            print(f"{name}: {total.errors} failed requests, e.g. {total.problems[:3]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
