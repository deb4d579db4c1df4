"""Benchmark: the list of overdue and missing copies (issue 13 item 3 / item 8: ≤ 50 ms with
100,000 carriers and 1,000,000 copies), and the missing clock's daily check. Prints one JSON
object.

    .venv/bin/python bench/bench_carrier_watch.py [--carriers 100000] [--copies-each 10]
                                                  [--lent 3000] [--missing 200] [--keep DIR | --reuse DIR]
                                                  [--database postgresql://… (an empty database)]

The rows are written straight into the tables (records, people, carriers, copies; no search
texts, which the watch never reads) as the services would leave them: a copy lent has its
应归还日期 (some past), a copy 下落不明 its 下落不明日期 and 查找期限 (the clock's stamp, 10 or 60
days by its carrier's 密级; some past). So the file is built in about a minute, not the import's
many. Then, through the service as the desktop asks it: ``watch()`` (the three lists, the same
snapshot), the daily check ``open_due_events()`` the first time (it opens the events due) and
again (nothing left to open: what every later start of the desktop costs), and the SQLite query
plan of each list (an index range each).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text  # noqa: E402

from mibao_desktop.db.database import Database  # noqa: E402
from mibao_desktop.db.models import Record  # noqa: E402
from mibao_desktop.db.schema import table_of  # noqa: E402
from mibao_desktop.ledgers import PEOPLE, leak_events, levels  # noqa: E402
from mibao_desktop.ledgers import carriers as C  # noqa: E402
from mibao_desktop.security import Actor  # noqa: E402
from mibao_desktop.services import carrier_watch as W  # noqa: E402
from mibao_desktop.services.context import Services  # noqa: E402

BATCH = 20_000


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def build(db: Database, carriers: int, each: int, lent: int, missing: int, today: dt.date) -> dict:
    rng = random.Random(3)
    now = dt.datetime.now()
    ids = iter(range(1, 10**9))
    P, K, Y = table_of(PEOPLE), table_of(C.CARRIERS), table_of(C.CARRIER_COPIES)
    stored = dict(voided=False, created_at=now, updated_at=now, version=1)
    total = carriers * each
    lent_at = set(rng.sample(range(total), lent + missing))
    missing_at = set(rng.sample(sorted(lent_at), missing))
    start = time.perf_counter()
    with db.write() as s:
        people = []
        for n in range(1000):
            pid = next(ids)
            people.append(pid)
            s.execute(insert(Record), [{"id": pid, "ledger": PEOPLE.key, "label": f"员工{n:04d}", "voided": False}])
            s.execute(insert(P), [{"id": pid, "person_number": f"RY-{n:04d}", "name": f"员工{n:04d}",
                                   "status": "在岗", **stored}])
        records, carrier_rows, copy_rows = [], [], []

        def flush():
            for table, rows in ((Record, records), (K, carrier_rows), (Y, copy_rows)):
                if rows:
                    s.execute(insert(table), rows)
                    rows.clear()

        k = 0
        for n in range(carriers):
            cid = next(ids)
            level = rng.choices(levels.LEVELS, (1, 4, 8))[0]
            number = f"ZT-{2020 + n % 6}-{n:06d}"
            records.append({"id": cid, "ledger": C.CARRIERS.key, "label": number, "voided": False})
            carrier_rows.append({"id": cid, "carrier_number": number, C.TITLE: "年度科研计划", "level": level,
                                 "copies": each, "department": "保密办", "location": "保密办保密柜",
                                 "keeper": people[n % 1000], "status": "在管", **stored})
            for copy_number in range(1, each + 1):
                yid = next(ids)
                row = {"id": yid, "parent_id": cid, "copy_number": copy_number, "status": "在管",
                       "holder": people[rng.randrange(1000)], "due_on": None, "missing_since": None,
                       "search_until": None, **stored}  # (one set of keys for every row of an executemany)
                if k in missing_at:
                    since = today - dt.timedelta(days=rng.randint(0, 70))
                    row.update(status=C.MISSING, missing_since=since,
                               search_until=leak_events.search_until(since, level))
                elif k in lent_at:
                    row.update(status=C.DUE_BACK[0], due_on=today + dt.timedelta(days=rng.randint(-30, 60)))
                records.append({"id": yid, "ledger": C.CARRIER_COPIES.key, "label": str(copy_number), "voided": False})
                copy_rows.append(row)
                k += 1
            if len(copy_rows) >= BATCH:
                flush()
        flush()
    with db.write() as s:
        if not db.is_sqlite:  # the ids were given here: the register's sequence goes on after them
            s.execute(text("SELECT setval('records_id_seq', (SELECT max(id) FROM records))"))
        s.execute(text("ANALYZE"))
    return {"build_s": round(time.perf_counter() - start, 1)}


def timed(fn, repeat: int, cpu: list | None = None):
    """Wall times of ``repeat`` runs (and into ``cpu`` the process's CPU time of each: on a
    machine shared with other work the wall time also counts the waits for a core)."""
    times, result = [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - t0)
        if cpu is not None:
            cpu.append(time.process_time() - c0)
    return times, result


def measure(db: Database, figures: dict, today: dt.date) -> None:
    services = Services(db, Actor.local_security_admin(), clock=lambda: dt.datetime.combine(today, dt.time(8)))
    watch = services.carrier_watch
    with db.session() as s:
        figures["carriers"] = s.scalar(text(f"SELECT count(*) FROM {table_of(C.CARRIERS).name}"))
        figures["copies"] = s.scalar(text(f"SELECT count(*) FROM {table_of(C.CARRIER_COPIES).name}"))
    figures["load_average"] = round(os.getloadavg()[0], 1)  # the machine's (shared) load while measuring
    cpu: list = []
    times, listed = timed(watch.watch, 9, cpu)
    figures["watch_ms_median"] = ms(statistics.median(times))
    figures["watch_ms_max"] = ms(max(times))
    figures["watch_cpu_ms_median"] = ms(statistics.median(cpu))
    figures["watch_target_ms"] = 50
    figures["listed"] = {"missing": len(listed.missing), "loans": len(listed.loans), "leaks": len(listed.leaks)}
    t0 = time.perf_counter()
    opened = watch.open_due_events()
    figures["first_check_ms"] = ms(time.perf_counter() - t0)
    figures["first_check_opened_events"] = len(opened)
    times, again = timed(watch.open_due_events, 5)
    assert again == []
    figures["later_check_ms_median"] = ms(statistics.median(times))
    times, listed = timed(watch.watch, 9)
    figures["watch_after_check_ms_median"] = ms(statistics.median(times))
    figures["listed_after_check"] = {"missing": len(listed.missing), "loans": len(listed.loans),
                                     "leaks": len(listed.leaks)}
    if db.is_sqlite:
        with db.session() as s:
            bind = s.get_bind()
            for name, query in (("missing", W.missing_query()), ("loans", W.loans_query(today + dt.timedelta(days=7)))):
                sql = str(query.compile(bind, compile_kwargs={"literal_binds": True}))
                figures[f"{name}_plan"] = [row[-1] for row in s.execute(text("EXPLAIN QUERY PLAN " + sql))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--carriers", type=int, default=100_000)
    parser.add_argument("--copies-each", type=int, default=10)
    parser.add_argument("--lent", type=int, default=3000, help="copies out on loan (due dates 30 days past to 60 ahead)")
    parser.add_argument("--missing", type=int, default=200, help="copies 下落不明 (marked 0-70 days ago)")
    parser.add_argument("--database", help="an empty PostgreSQL database's postgresql:// URL (default: a new SQLite file)")
    parser.add_argument("--keep", type=Path, help="build the SQLite file in this folder and keep it")
    parser.add_argument("--reuse", type=Path, help="measure the SQLite file kept in this folder (built the same day)")
    args = parser.parse_args()
    folder = args.reuse or args.keep or Path(tempfile.mkdtemp(prefix="mibao-bench-watch-"))
    db = Database.open(args.database or folder / "mibao.sqlite")
    today = dt.date.today()
    figures: dict = {"engine": db.dialect}
    if not args.reuse:
        figures.update(build(db, args.carriers, args.copies_each, args.lent, args.missing, today))
    measure(db, figures, today)
    if db.is_sqlite:
        figures["database_mb"] = round((folder / "mibao.sqlite").stat().st_size / 2**20, 1)
    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
