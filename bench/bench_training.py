"""Benchmark: the training compliance list (issue 14 item 9: 20,000 staff, 200,000 training
attendances, the list of who is short ≤ 200 ms). Prints one JSON object.

    .venv/bin/python bench/bench_training.py [--staff 20000] [--attendances 200000] [--sessions 500]
                                             [--years 1] [--keep DIR | --reuse DIR]
                                             [--database postgresql://… (an empty database)]

The rows are written straight into the tables (records, people with their grades and 拼音 sort
keys, sessions, attendances; no search texts, which the list never reads) as the services would
leave them; the database's triggers fill the ``training_hours`` tally as the rows go in
(revision 0026). By default every attendance falls in the year measured; ``--years 5`` spreads
them over five years. Then, through the service as the desktop asks it,
``TrainingService.compliance(year)`` on the year's last day nine times (wall and CPU time,
median and max), the machine's load average before and after (it is shared: wall times vary
with it, CPU times far less), and the SQLite query plans.
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
from mibao_desktop.ledgers import PEOPLE, samples  # noqa: E402
from mibao_desktop.ledgers import trainings as T  # noqa: E402
from mibao_desktop.ledgers.pinyin import sort_key  # noqa: E402
from mibao_desktop.security import Actor  # noqa: E402
from mibao_desktop.services import training as training_service  # noqa: E402
from mibao_desktop.services.context import Services  # noqa: E402

BATCH = 20_000


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def build(db: Database, staff: int, attendances: int, sessions: int, years: int, year: int) -> dict:
    rng = random.Random(14)
    now = dt.datetime.now()
    ids = iter(range(1, 10**9))
    P, S, A = table_of(PEOPLE), table_of(T.TRAININGS), table_of(T.TRAINING_ATTENDANCES)
    stored = dict(voided=False, created_at=now, updated_at=now, version=1)
    start = time.perf_counter()
    with db.write() as s:
        people, records, rows = [], [], []
        for n in range(staff):
            pid = next(ids)
            people.append(pid)
            name, dept = samples.person_name(rng), rng.choice(samples.DEPARTMENTS)
            grade = rng.choices(("核心", "重要", "一般", None), (1, 3, 6, 2))[0]
            records.append({"id": pid, "ledger": PEOPLE.key, "label": name, "voided": False})
            rows.append({"id": pid, "person_number": f"RY-{n:05d}", "name": name, "name__pinyin": sort_key(name),
                         "department": dept, "department__pinyin": sort_key(dept), "grade": grade,
                         "status": "在岗" if rng.random() < 0.95 else "调离", **stored})
        s.execute(insert(Record), records)
        s.execute(insert(P), rows)
        records, session_rows, rows = [], [], []
        each = max(1, attendances // sessions)
        made = 0
        for n in range(sessions):
            sid = next(ids)
            held = dt.date(year - rng.randrange(years), 1, 1) + dt.timedelta(days=rng.randint(0, 330))
            number = f"PX-{n:05d}"
            records.append({"id": sid, "ledger": T.TRAININGS.key, "label": number, "voided": False})
            session_rows.append({"id": sid, "training_number": number, T.DATE: held, T.SUBJECT: "保密法学习",
                                 T.HOURS: rng.choice((10, 15, 20, 30, 40)), "form": "集中培训", "status": "已举办",
                                 **stored})
            for pid in rng.sample(people, min(each, attendances - made)):
                aid = next(ids)
                records.append({"id": aid, "ledger": T.TRAINING_ATTENDANCES.key, "label": "", "voided": False})
                rows.append({"id": aid, "parent_id": sid, T.PERSON: pid,
                             "attended_hours": 5 if rng.random() < 0.02 else None, "status": "已参加", **stored})
                made += 1
            if len(rows) >= BATCH:
                for table, batch in ((Record, records), (S, session_rows), (A, rows)):
                    if batch:
                        s.execute(insert(table), batch)
                        batch.clear()
        for table, batch in ((Record, records), (S, session_rows), (A, rows)):
            if batch:
                s.execute(insert(table), batch)
    with db.write() as s:
        if not db.is_sqlite:  # the ids were given here: the register's sequence goes on after them
            s.execute(text("SELECT setval('records_id_seq', (SELECT max(id) FROM records))"))
        s.execute(text("ANALYZE"))
    return {"build_s": round(time.perf_counter() - start, 1)}


def measure(db: Database, figures: dict, year: int) -> None:
    today = dt.date(year, 12, 31)
    services = Services(db, Actor.local_security_admin(), clock=lambda: dt.datetime.combine(today, dt.time(8)))
    with db.session() as s:
        figures["staff"] = s.scalar(text(f"SELECT count(*) FROM {table_of(PEOPLE).name}"))
        figures["sessions"] = s.scalar(text(f"SELECT count(*) FROM {table_of(T.TRAININGS).name}"))
        figures["attendances"] = s.scalar(text(f"SELECT count(*) FROM {table_of(T.TRAINING_ATTENDANCES).name}"))
    figures["load_average"] = round(os.getloadavg()[0], 1)  # the machine's (shared) load while measuring
    times, cpu, result = [], [], None
    for _ in range(9):
        t0, c0 = time.perf_counter(), time.process_time()
        result = services.training.compliance(year)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    figures["compliance_ms_median"] = ms(statistics.median(times))
    figures["compliance_ms_max"] = ms(max(times))
    figures["compliance_cpu_ms_median"] = ms(statistics.median(cpu))
    figures["compliance_target_ms"] = 200
    figures["load_average_after"] = round(os.getloadavg()[0], 1)
    figures["listed"] = result.listed
    figures["short"] = len(result.short)
    if db.is_sqlite:  # the plans of the two reads (counts per grade, those listed) as compliance_of builds them
        with db.session() as s:
            statements = []
            real = s.execute

            def spy(statement, *args, **kwargs):
                statements.append(statement)
                return real(statement, *args, **kwargs)

            s.execute = spy
            training_service.compliance_of(s, year, today)
            bind = s.get_bind()
            figures["plan"] = []
            for statement in statements[-2:]:
                sql = str(statement.compile(bind, compile_kwargs={"literal_binds": True}))
                figures["plan"].append([row[-1] for row in real(text("EXPLAIN QUERY PLAN " + sql))])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--staff", type=int, default=20_000)
    parser.add_argument("--attendances", type=int, default=200_000)
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--years", type=int, default=1, help="spread the sessions over this many years")
    parser.add_argument("--database", help="an empty PostgreSQL database's postgresql:// URL (default: a new SQLite file)")
    parser.add_argument("--keep", type=Path, help="build the SQLite file in this folder and keep it")
    parser.add_argument("--reuse", type=Path, help="measure the SQLite file kept in this folder")
    args = parser.parse_args()
    folder = args.reuse or args.keep or Path(tempfile.mkdtemp(prefix="mibao-bench-training-"))
    db = Database.open(args.database or folder / "mibao.sqlite")
    year = dt.date.today().year
    figures: dict = {"engine": db.dialect}
    if not args.reuse:
        figures.update(build(db, args.staff, args.attendances, args.sessions, args.years, year))
    measure(db, figures, year)
    if db.is_sqlite:
        figures["database_mb"] = round((folder / "mibao.sqlite").stat().st_size / 2**20, 1)
    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
