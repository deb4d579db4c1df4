"""Benchmark: the exit documents' watch lists (issue 14 items 3 and 9) with 20,000 staff, 30,000
trips and a document for most classified staff: documents overdue (target ≤ 50 ms), documents
expiring, classified staff with no document on file, and the three together as the desktop's
dialog reads them. Prints one JSON object (the median of five runs of each, after one to warm).

    .venv/bin/python bench/bench_exit_documents.py [--staff 20000] [--trips 30000]
                                                  [--database postgresql://… (an empty database)]

Rows are written straight into their tables (no search texts or history, which none of the lists
reads): people with a grade and status, trips over the last three years, a passport for 80 % of
the classified staff and a 港澳 permit for a quarter of those; the documents of the latest
trips are 已领取 with their 应交回日期 as the service computes it (return + 10 days), so a few
hundred are overdue.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from mibao_desktop.db.database import Database  # noqa: E402
from mibao_desktop.db.models import Record  # noqa: E402
from mibao_desktop.db.schema import table_of  # noqa: E402
from mibao_desktop.ledgers import PEOPLE  # noqa: E402
from mibao_desktop.ledgers import exit_documents as X  # noqa: E402
from mibao_desktop.ledgers import people as P  # noqa: E402
from mibao_desktop.ledgers import trips as T  # noqa: E402
from mibao_desktop.security import Actor  # noqa: E402
from mibao_desktop.services.context import Services  # noqa: E402


def build(db: Database, staff: int, trips: int) -> dict[str, int]:
    rng = random.Random(14)
    now, today = dt.datetime.now(), dt.date.today()
    p, t, d = table_of(PEOPLE), table_of(T.TRIPS), table_of(X.EXIT_DOCUMENTS)
    meta = {"voided": False, "created_at": now, "updated_at": now, "version": 1}
    people, next_id = [], 1
    with db.write() as session:
        rows = []
        for i in range(staff):
            grade = rng.choice((*P.GRADES, P.UNCLASSIFIED))
            status = "在岗" if rng.random() < 0.9 else rng.choice(("脱密期", "已脱密", "调离", "退休"))
            rows.append({"id": next_id, "person_number": f"RY-{next_id:06d}", "name": f"人员{next_id}",
                         "department": f"部门{next_id % 40}", "grade": grade, "status": status, **meta})
            people.append((next_id, grade))
            next_id += 1
        _insert(session, PEOPLE.key, p, rows)
        classified = [pid for pid, grade in people if grade in P.GRADES]
        trip_rows, latest = [], {}
        for n in range(trips):
            who = rng.choice(classified)
            out = today - dt.timedelta(days=rng.randint(0, 3 * 365))
            back = out + dt.timedelta(days=rng.randint(3, 20))
            trip_rows.append({"id": next_id, "trip_number": f"CJ-{n + 1:06d}", T.TRAVELLER: who,
                              T.KIND: rng.choice(T.KINDS), "destinations": "日本", T.LEAVE_ON: out, T.RETURN_ON: back,
                              "purpose": "旅游", "status": T.RETURNED if back < today else T.APPROVED, **meta})
            if who not in latest or latest[who][1] < back:
                latest[who] = (next_id, back)
            next_id += 1
        _insert(session, T.TRIPS.key, t, trip_rows)
        doc_rows, out_count = [], 0
        for pid in classified:
            if rng.random() >= 0.8:
                continue
            trip = latest.get(pid)
            # out: the latest trip came back within the last 40 days and 1 in 4 of those is not back in
            handed = trip is not None and (today - trip[1]).days < 40 and rng.random() < 0.25
            expires = today + dt.timedelta(days=rng.randint(-30, 10 * 365))
            doc_rows.append({"id": next_id, X.NUMBER: f"E{next_id:08d}", X.HOLDER: pid, X.KIND: X.PASSPORT,
                             X.EXPIRES_ON: expires, "location": "人事处证件柜",
                             "status": X.OUT if handed else X.IN_SAFE, X.TRIP: trip[0] if handed else None,
                             X.DUE_ON: trip[1] + dt.timedelta(days=X.RETURN_DAYS) if handed else None, **meta})
            out_count += handed
            next_id += 1
            if rng.random() < 0.25:
                doc_rows.append({"id": next_id, X.NUMBER: f"C{next_id:08d}", X.HOLDER: pid, X.KIND: X.HK_MACAO,
                                 X.EXPIRES_ON: today + dt.timedelta(days=rng.randint(0, 10 * 365)),
                                 "location": "人事处证件柜", "status": X.IN_SAFE, X.TRIP: None, X.DUE_ON: None,
                                 **meta})
                next_id += 1
        _insert(session, X.EXIT_DOCUMENTS.key, d, doc_rows)
    return {"staff": staff, "trips": trips, "documents": len(doc_rows), "documents_out": out_count}


def _insert(session, ledger_key: str, table, rows: list[dict]) -> None:
    for start in range(0, len(rows), 5000):
        chunk = rows[start:start + 5000]
        session.execute(insert(Record), [{"id": r["id"], "ledger": ledger_key, "label": str(r["id"]), "voided": False}
                                         for r in chunk])
        session.execute(insert(table), chunk)


def _median_ms(work) -> tuple[float, object]:
    result = work()  # warm the caches once
    times = []
    for _ in range(5):
        started = time.perf_counter()
        result = work()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--staff", type=int, default=20_000)
    parser.add_argument("--trips", type=int, default=30_000)
    parser.add_argument("--database", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.open(args.database or Path(tmp) / "mibao.sqlite")
        started = time.perf_counter()
        sizes = build(db, args.staff, args.trips)
        built = time.perf_counter() - started
        travel = Services(db, Actor.local_security_admin()).travel
        overdue_ms, overdue = _median_ms(travel.overdue)
        expiring_ms, expiring = _median_ms(travel.expiring)
        without_ms, without = _median_ms(travel.without_document)
        watch_ms, _watch = _median_ms(travel.watch)
        print(json.dumps({**sizes, "engine": db.engine.dialect.name, "build_s": round(built, 1),
                          "overdue": len(overdue), "overdue_ms": overdue_ms, "overdue_target_ms": 50,
                          "expiring": len(expiring), "expiring_ms": expiring_ms,
                          "without_document": len(without), "without_document_ms": without_ms,
                          "watch_all_three_ms": watch_ms}, ensure_ascii=False))
        db.close()


if __name__ == "__main__":
    main()
