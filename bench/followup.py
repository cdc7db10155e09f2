"""Follow-up at scale: routing 10,000 leads for one event, and a rep's list with 5,000 open
follow-ups, each measured beside a reference in the same run.

    .venv/bin/python bench/followup.py [--leads 10000] [--open 5000] [--repeat 5]

References: for routing, the same number of plain follow-up rows inserted in one transaction
(what routing must write at the least); for the list, a single indexed query that reads the
rep's open list in the list's order. Runs on a fresh, migrated database: a temporary SQLite
file, or a throwaway PostgreSQL database beside DATABASE_URL when it names one (dropped after).
Targets: routing <= 3x its reference, the list page <= 3x its reference.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, event, insert, select, text  # noqa: E402

from bench.databases import empty_databases  # noqa: E402

TARGET = 3.0


def best_of_each(
    repeat: int, setup: Callable[[], Any], runs: list[Callable[[Any], Any]]
) -> list[float]:
    """The fastest time of each of `runs` (each after its own untimed setup), taken in turns
    (A, B, A, B…) so that a busy moment of the machine falls on both sides alike."""
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(repeat):
        for index, run in enumerate(runs):
            state = setup()
            start = time.perf_counter()
            run(state)
            times[index].append(time.perf_counter() - start)
    return [min(each) for each in times]


class QueryCounter:
    def __init__(self, engine: Any) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args: Any) -> None:
        self.count += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--open", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory() as tmp,
        empty_databases(Path(tmp), "followup") as (kind, (url,)),
    ):
        os.environ["DATABASE_URL"] = url
        from flask_migrate import upgrade

        from app import create_app
        from app.db import db

        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "INSTANCE_PATH": str(Path(tmp) / "instance"),
                "SECRET_KEY": "bench",
                "RATELIMIT_ENABLED": False,
                "MAIL_WAKE_WORKER": False,
                "TESTING": True,
            }
        )
        with app.app_context():
            upgrade()
            print(f"Database: {kind}")
            routing_ratio = bench_routing(db, args.leads, args.repeat)
            list_ratio = bench_list(app, db, args.open, args.repeat)
            db.session.remove()
            db.engine.dispose()
    ok = routing_ratio <= TARGET and list_ratio <= TARGET
    print(f"\nTargets (<= {TARGET:g}x): {'met' if ok else 'NOT met'}")
    sys.exit(0 if ok else 1)


def bench_routing(db: Any, leads: int, repeat: int) -> float:
    from app.followup.models import FollowUp, RoundRobinCredit, RoutingRun
    from app.followup.routing import route_followups
    from app.followup.rules import save_rule
    from app.mail.models import OutboxMessage
    from app.registrations.models import Lead
    from tests.builders import make_event
    from tests.followup_fixtures import after, bulk_registrants, make_rep

    countries = ["US", "CA", "DE", "FR", "GB", "IN", "JP", "BR"]
    reps = [
        make_rep(f"rep{i}@example.com", countries=(countries[i % 8],), weight=1 + i % 3)
        for i in range(12)
    ]
    save_rule(
        None,
        {
            "name": "Enterprise",
            "segments": ["enterprise"],
            "members": [(rep.id, 1 + i % 2) for i, rep in enumerate(reps[:4])],
        },
    )
    save_rule(
        None,
        {"name": "Partners", "email_domains": ["partner.example"], "target_rep_id": reps[5].id},
    )
    event = make_event(slug="bench-routing")
    reference_event = make_event(slug="bench-reference")
    lead_ids: list[int] = []
    for n, country in enumerate(countries):
        lead_ids += bulk_registrants(
            event,
            leads // len(countries),
            country=country,
            email=lambda i, n=n: f"p{n}-{i}@firm{n}-{i % 900}.example",
            answers={"company_size": "5000"} if n % 3 == 0 else {},
        )
    moment = after(event)

    def clean() -> None:
        db.session.execute(delete(OutboxMessage))
        db.session.execute(delete(FollowUp))
        db.session.execute(delete(RoutingRun))
        db.session.execute(delete(RoundRobinCredit))
        db.session.execute(text("DELETE FROM company_owners"))
        db.session.execute(Lead.__table__.update().values(owner_id=None, status="new", score=0))
        db.session.commit()

    def route(_: Any) -> None:
        result = route_followups(event.id, trigger="cli", now=moment)
        assert result.created == len(lead_ids), result.created

    def reference(_: Any) -> None:
        due = moment + timedelta(hours=1)
        db.session.execute(
            insert(FollowUp.__table__),
            [
                # The same columns a routed follow-up fills, with plain values.
                {
                    "lead_id": lead_id,
                    "event_id": reference_event.id,
                    "registration_id": None,
                    "rep_id": reps[i % len(reps)].id,
                    "rule_id": None,
                    "run_id": None,
                    "attended_minutes": None,
                    "flagged_at": None,
                    "status": "open",
                    "priority": "cold",
                    "priority_rank": 2,
                    "score": 0,
                    "due_at": due,
                    "why": "Reference row: a plain insert with a sentence of the usual length.",
                    "assigned_at": moment,
                    "created_at": moment,
                    "updated_at": moment,
                }
                for i, lead_id in enumerate(lead_ids)
            ],
        )
        db.session.commit()

    routed, inserted = best_of_each(repeat, clean, [route, reference])
    clean()
    ratio = routed / inserted
    print(f"\nRouting {len(lead_ids):,} leads for one event (12 reps, 2 rules, 8 countries)")
    print(f"  route_followups:            {routed * 1000:8.1f} ms")
    print(f"  reference, plain inserts:   {inserted * 1000:8.1f} ms")
    print(f"  ratio:                      {ratio:8.2f}x  (target <= {TARGET:g}x)")
    return ratio


def bench_list(app: Any, db: Any, open_count: int, repeat: int) -> float:
    from app.followup.models import OPEN_STATUSES, FollowUp
    from app.followup.routing import route_followups
    from app.models import RepProfile, User
    from app.registrations.models import Lead
    from tests.builders import log_in, make_event
    from tests.followup_fixtures import after, bulk_registrants, make_rep

    for profile in db.session.scalars(select(RepProfile)):
        profile.active = False
    db.session.commit()
    rep = make_rep("busy.rep@example.com")
    event = make_event(slug="bench-list")
    bulk_registrants(event, open_count, email=lambda i: f"lead{i}@co{i}.example")
    route_followups(event.id, now=after(event))
    mine = db.session.scalar(
        select(db.func.count()).select_from(FollowUp).where(FollowUp.rep_id == rep.id)
    )
    assert mine == open_count, mine
    rep_id = rep.id

    client = app.test_client()
    log_in(client, db.session.get(User, rep_id))
    counter = QueryCounter(db.engine)

    def page(_: Any) -> None:
        response = client.get("/followups")
        assert response.status_code == 200

    def reference(_: Any) -> None:
        # One indexed query for the rep's open list, in its order, with the lead it names.
        rows = db.session.execute(
            select(FollowUp.id, FollowUp.priority, FollowUp.due_at, FollowUp.why, Lead.email)
            .join(Lead, Lead.id == FollowUp.lead_id)
            .where(FollowUp.rep_id == rep_id, FollowUp.status.in_(OPEN_STATUSES))
            .order_by(FollowUp.priority_rank, FollowUp.due_at, FollowUp.id)
        ).all()
        assert len(rows) == open_count
        db.session.rollback()

    def first_page_reference(_: Any) -> None:
        rows = db.session.execute(
            select(FollowUp.id, FollowUp.priority, FollowUp.due_at, FollowUp.why, Lead.email)
            .join(Lead, Lead.id == FollowUp.lead_id)
            .where(FollowUp.rep_id == rep_id, FollowUp.status.in_(OPEN_STATUSES))
            .order_by(FollowUp.priority_rank, FollowUp.due_at, FollowUp.id)
            .limit(50)
        ).all()
        assert len(rows) == 50
        db.session.rollback()

    page(None)  # warm the template cache
    before = counter.count
    page(None)
    queries = counter.count - before
    shown, whole, first = best_of_each(
        repeat * 3, lambda: None, [page, reference, first_page_reference]
    )
    ratio = shown / whole
    print(f"\nThe rep's list with {open_count:,} open follow-ups (50 a page)")
    print(f"  GET /followups (whole request): {shown * 1000:8.1f} ms, {queries} queries")
    print(f"  reference, one indexed query:   {whole * 1000:8.1f} ms ({open_count:,} rows)")
    print(f"  ratio:                          {ratio:8.2f}x  (target <= {TARGET:g}x)")
    print(
        f"  for scale: the same query for the first page only: {first * 1000:.1f} ms "
        f"(the page is {shown / first:.1f}x that, template rendering included)"
    )
    return ratio


if __name__ == "__main__":
    main()
