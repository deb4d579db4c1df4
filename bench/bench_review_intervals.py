"""Benchmark: saving the 复审周期 (issue 14 item 1) with 20,000 staff (issue 14 item 9's figure),
which recomputes the stored 下次复审日期 of every person of each grade whose interval changed, in
the setting's own transaction; and the list of who is due for review before a day (an index
range over 下次复审日期). Prints one JSON object.

    .venv/bin/python bench/bench_review_intervals.py [--staff 20000]
                                                    [--database postgresql://… (an empty database)]

The people are written straight into their table (no search texts, which neither reads), with a
grade, a 任前审查 day and, for most, a 上次复审 day, their 下次复审日期 as the app computes it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select  # noqa: E402

from mibao_desktop.db.database import Database  # noqa: E402
from mibao_desktop.db.models import Record  # noqa: E402
from mibao_desktop.db.schema import table_of  # noqa: E402
from mibao_desktop.ledgers import PEOPLE  # noqa: E402
from mibao_desktop.ledgers import people as P  # noqa: E402
from mibao_desktop.security import Actor  # noqa: E402
from mibao_desktop.services.context import Services  # noqa: E402


def build(db: Database, staff: int) -> None:
    rng = random.Random(14)
    t = table_of(PEOPLE)
    now = dt.datetime.now()
    today = dt.date.today()
    with db.write() as session:
        for start in range(1, staff + 1, 5000):
            ids = range(start, min(staff, start + 4999) + 1)
            session.execute(insert(Record), [{"id": i, "ledger": PEOPLE.key, "label": f"人员{i}", "voided": False}
                                             for i in ids])
            rows = []
            for i in ids:
                grade = rng.choice((*P.GRADES, P.UNCLASSIFIED))
                vetted = today - dt.timedelta(days=rng.randint(100, 4000))
                last = vetted + dt.timedelta(days=rng.randint(300, 1500)) if rng.random() < 0.7 else None
                values = {"grade": grade, "vetted_on": vetted, "last_review": last if last and last < today else None}
                rows.append({"id": i, "person_number": f"RY-{i:06d}", "name": f"人员{i}", "status": "在岗",
                             "voided": False, "created_at": now, "updated_at": now, "version": 1,
                             "next_review": P.next_review(values, P.REVIEW_YEARS), **values})
            session.execute(insert(t), rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--staff", type=int, default=20_000)
    parser.add_argument("--database", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.open(args.database or Path(tmp) / "mibao.sqlite")
        started = time.perf_counter()
        build(db, args.staff)
        built = time.perf_counter() - started
        services = Services(db, Actor.local_security_admin())
        timings = {}
        for step, years in (("一般 5→4", {"一般": 4}), ("all three changed", {"核心": 2, "重要": 4, "一般": 6}),
                            ("back to the defaults", dict(P.REVIEW_YEARS))):
            started = time.perf_counter()
            services.settings.set_review_intervals(years)
            timings[step] = round((time.perf_counter() - started) * 1000, 1)
        t = table_of(PEOPLE)
        before = dt.date.today() + dt.timedelta(days=90)
        with db.session() as session:
            started = time.perf_counter()
            due = session.execute(select(t.c.id, t.c.next_review).where(t.c.next_review < before, t.c.voided.is_(False))
                                  .order_by(t.c.next_review, t.c.id)).all()
            listed = round((time.perf_counter() - started) * 1000, 1)
        print(json.dumps({"staff": args.staff, "engine": db.engine.dialect.name, "build_s": round(built, 1),
                          "set_review_intervals_ms": timings, "due_within_90_days": len(due),
                          "due_list_ms": listed}, ensure_ascii=False))
        db.close()


if __name__ == "__main__":
    main()
