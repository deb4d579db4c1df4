"""Benchmark: one person's page with everything they hold (issue 14 item 9: 20,000 staff, the
page ≤ 100 ms), and what 离岗离职 reads of it. Prints one JSON object.

    .venv/bin/python bench/bench_person_page.py [--staff 20000] [--computers 40000] [--media 40000]
                                                [--carriers 10000] [--copies 3] [--keep DIR | --reuse DIR]
                                                [--database postgresql://… (an empty database)]

The rows are written straight into the tables (records, people, computers with 责任人 and
使用人, media, carriers with their 保管人 and copies with their 持有人, each person chosen at
random; no search texts, which the page never reads) as the services would leave them. The
person measured holds the most. Then, as the desktop asks them: the page's list
(``services.holdings.collect``, what the person's page and its 打印清单 read) and the departure's
(``DepartureService.holdings``: the items still in their hands), nine times each (wall and CPU
time, median and max).
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
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text  # noqa: E402

from mibao_desktop.db.database import Database  # noqa: E402
from mibao_desktop.db.models import Record  # noqa: E402
from mibao_desktop.db.schema import table_of  # noqa: E402
from mibao_desktop.ledgers import LEDGERS, PEOPLE, samples  # noqa: E402
from mibao_desktop.ledgers.pinyin import sort_key  # noqa: E402
from mibao_desktop.security import Actor  # noqa: E402
from mibao_desktop.services.context import Services  # noqa: E402
from mibao_desktop.services.holdings import collect  # noqa: E402

BATCH = 20_000


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def build(db: Database, staff: int, computers: int, media: int, carriers: int, copies: int) -> dict:
    rng = random.Random(14)
    now = dt.datetime.now()
    ids = iter(range(1, 10**9))
    stored = dict(voided=False, created_at=now, updated_at=now, version=1)
    start = time.perf_counter()
    held: Counter = Counter()
    with db.write() as s:
        records, rows = [], []
        people = []
        for n in range(staff):
            pid = next(ids)
            people.append(pid)
            name, dept = samples.person_name(rng), rng.choice(samples.DEPARTMENTS)
            records.append({"id": pid, "ledger": PEOPLE.key, "label": name, "voided": False})
            rows.append({"id": pid, "person_number": f"RY-{n:05d}", "name": name, "name__pinyin": sort_key(name),
                         "department": dept, "department__pinyin": sort_key(dept), "grade": "一般",
                         "status": "在岗", **stored})
        s.execute(insert(Record), records)
        s.execute(insert(table_of(PEOPLE)), rows)

        def put(key: str, make) -> list[int]:
            ledger = LEDGERS[key]
            t = table_of(ledger)
            made, records, rows = [], [], []
            for n, values in enumerate(make()):
                rid = next(ids)
                made.append(rid)
                records.append({"id": rid, "ledger": key, "label": values[ledger.key_field] if ledger.parent is None
                                else "", "voided": False})
                rows.append({"id": rid, **values, **stored})
                if len(rows) >= BATCH:
                    s.execute(insert(Record), records)
                    s.execute(insert(t), rows)
                    records.clear()
                    rows.clear()
            if rows:
                s.execute(insert(Record), records)
                s.execute(insert(t), rows)
            return made

        def someone() -> int:
            pid = rng.choice(people)
            held[pid] += 1
            return pid

        put("computers", lambda: ({"asset_number": f"JM-{n:06d}", "level": "秘密", "device_type": "台式机",
                                   "responsible_person": someone(), "user": someone(), "status": "在用"}
                                  for n in range(computers)))
        put("media", lambda: ({"asset_number": f"JMU-{n:06d}", "level": "秘密", "media_type": "U盘",
                               "responsible_person": someone(), "status": "在用"} for n in range(media)))
        carrier_ids = put("carriers", lambda: ({"carrier_number": f"ZT-{n:06d}", "title": "文件", "level": "秘密",
                                                "copies": copies, "keeper": someone(), "status": "在管"}
                                               for n in range(carriers)))
        put("carrier_copies", lambda: ({"parent_id": cid, "copy_number": k, "holder": someone(), "status": "在管"}
                                       for cid in carrier_ids for k in range(1, copies + 1)))
    with db.write() as s:
        if not db.is_sqlite:  # the ids were given here: the register's sequence goes on after them
            s.execute(text("SELECT setval('records_id_seq', (SELECT max(id) FROM records))"))
        s.execute(text("ANALYZE"))
    person, most = held.most_common(1)[0]
    return {"build_s": round(time.perf_counter() - start, 1), "person_id": person, "person_holds_about": most}


def timed(figures: dict, name: str, call) -> object:
    times, cpu, result = [], [], None
    for _ in range(9):
        t0, c0 = time.perf_counter(), time.process_time()
        result = call()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    figures[f"{name}_ms_median"] = ms(statistics.median(times))
    figures[f"{name}_ms_max"] = ms(max(times))
    figures[f"{name}_cpu_ms_median"] = ms(statistics.median(cpu))
    return result


def measure(db: Database, figures: dict) -> None:
    services = Services(db, Actor.local_security_admin())
    with db.session() as s:
        for key in ("people", "computers", "media", "carriers", "carrier_copies"):
            figures[key] = s.scalar(text(f"SELECT count(*) FROM {table_of(LEDGERS[key]).name}"))
        if "person_id" not in figures:  # --reuse: the person holding the most copies
            figures["person_id"] = s.scalar(text(
                f"SELECT holder FROM {table_of(LEDGERS['carrier_copies']).name} GROUP BY holder "
                "ORDER BY count(*) DESC LIMIT 1"))
    figures["load_average"] = round(os.getloadavg()[0], 1)  # the machine's (shared) load while measuring
    person = figures["person_id"]
    page = timed(figures, "person_page", lambda: collect(services.ledgers, person))
    figures["person_page_items"] = len(page.items)
    figures["person_page_target_ms"] = 100
    held = timed(figures, "departure_holdings", lambda: services.departure.holdings(person))
    figures["departure_holdings_items"] = len(held)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--staff", type=int, default=20_000)
    parser.add_argument("--computers", type=int, default=40_000)
    parser.add_argument("--media", type=int, default=40_000)
    parser.add_argument("--carriers", type=int, default=10_000)
    parser.add_argument("--copies", type=int, default=3, help="copies of each carrier")
    parser.add_argument("--database", help="an empty PostgreSQL database's postgresql:// URL (default: a new SQLite file)")
    parser.add_argument("--keep", type=Path, help="build the SQLite file in this folder and keep it")
    parser.add_argument("--reuse", type=Path, help="measure the SQLite file kept in this folder")
    args = parser.parse_args()
    folder = args.reuse or args.keep or Path(tempfile.mkdtemp(prefix="mibao-bench-person-"))
    db = Database.open(args.database or folder / "mibao.sqlite")
    figures: dict = {"engine": db.dialect}
    if not args.reuse:
        figures.update(build(db, args.staff, args.computers, args.media, args.carriers, args.copies))
    measure(db, figures)
    if db.is_sqlite:
        figures["database_mb"] = round((folder / "mibao.sqlite").stat().st_size / 2**20, 1)
    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
