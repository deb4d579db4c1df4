"""Benchmark: the 首页 (issue 15 item 5): every reminder of the security administrator computed
with 1,000,000 carrier copies, 20,000 staff and 100,000 devices; target ≤ 200 ms. Prints one
JSON object.

    .venv/bin/python bench/bench_due.py [--source /tmp/bc/big/mibao.sqlite] [--work DIR]
                                        [--staff 20000] [--devices 100000]

The carriers come from a database already built with a million copies (bench_carriers.py's),
copied into ``--work`` first (never written in place); the staff and devices are added there
straight into the tables as the services would leave them (records, people with grades,
复审 dates and a few in their 脱密期; computers and media, most labelled (a 打印标识 event and
label_printed_at), some
外出/借出 with their return date, some in 维修, a few in the charge of people who left). Then
``Services.due.due()`` nine times on two days: one in the middle of the year, and one in
December when the training rule reads the year's hours (wall and CPU time, median and max, and
each rule's share read once).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text  # noqa: E402

from mibao_desktop.db.database import Database  # noqa: E402
from mibao_desktop.db.models import FieldChange, Record, RecordEvent  # noqa: E402
from mibao_desktop.db.schema import LABEL_PRINTED, table_of  # noqa: E402
from mibao_desktop.ledgers import PEOPLE, samples  # noqa: E402
from mibao_desktop.ledgers.computers import CLASSIFIED_COMPUTERS  # noqa: E402
from mibao_desktop.ledgers.media import REMOVABLE_MEDIA  # noqa: E402
from mibao_desktop.ledgers.pinyin import sort_key  # noqa: E402
from mibao_desktop.security import Actor  # noqa: E402
from mibao_desktop.services import due as due_module  # noqa: E402
from mibao_desktop.services.context import Services  # noqa: E402

SOURCE = Path("/tmp/bc/big/mibao.sqlite")
BATCH = 20_000


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def build(db: Database, staff: int, devices: int) -> dict:
    rng = random.Random(15)
    now = dt.datetime(2026, 1, 5, 9, 0)
    stored = dict(voided=False, created_at=now, updated_at=now, version=1)
    P = table_of(PEOPLE)
    start = time.perf_counter()
    with db.write() as s:
        next_id = (s.scalar(select(func.max(Record.id))) or 0) + 1
        have = s.scalar(select(func.count()).select_from(P))
        people, records, rows = [], [], []
        for n in range(max(0, staff - have)):
            pid = next_id
            next_id += 1
            people.append(pid)
            name, dept = samples.person_name(rng), rng.choice(samples.DEPARTMENTS)
            grade = rng.choices(("核心", "重要", "一般", None), (1, 3, 6, 2))[0]
            status = rng.choices(("在岗", "脱密期", "调离"), (96, 2, 2))[0]
            vetted = dt.date(2020, 1, 1) + dt.timedelta(days=rng.randint(0, 2000))
            years = {"核心": 1, "重要": 3, "一般": 5}.get(grade or "", 5)
            records.append({"id": pid, "ledger": PEOPLE.key, "label": name, "voided": False})
            rows.append({"id": pid, "person_number": f"RB-{n:05d}", "name": name, "name__pinyin": sort_key(name),
                         "department": dept, "department__pinyin": sort_key(dept), "grade": grade,
                         "vetted_on": vetted, "next_review": vetted + dt.timedelta(days=365 * years),
                         "status": status,
                         "decommission_from": dt.date(2026, 1, 1) if status == "脱密期" else None,
                         "decommission_until": dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(30, 700))
                         if status == "脱密期" else None, **stored})
            if len(rows) >= BATCH:
                s.execute(insert(Record), records)
                s.execute(insert(P), rows)
                records, rows = [], []
        if rows:
            s.execute(insert(Record), records)
            s.execute(insert(P), rows)
        everyone = [r[0] for r in s.execute(select(P.c.id))]
        made = {"computers": 0, "media": 0}
        for ledger, share in ((CLASSIFIED_COMPUTERS, 0.6), (REMOVABLE_MEDIA, 0.4)):
            t = table_of(ledger)
            records, rows, events, changes = [], [], [], []
            event_id = (s.scalar(select(func.max(RecordEvent.id))) or 0) + 1
            for n in range(int(devices * share)):
                rid = next_id
                next_id += 1
                number = f"{'JM' if ledger is CLASSIFIED_COMPUTERS else 'JMU'}-B{n:06d}"
                status = rng.choices(("在用", "外出", "维修", "停用") if ledger is CLASSIFIED_COMPUTERS
                                     else ("在用", "外出", "借出"), (97, 1, 1, 1) if ledger is CLASSIFIED_COMPUTERS
                                     else (97, 1, 2))[0]
                person = rng.choice(everyone)
                dept = rng.choice(samples.DEPARTMENTS)
                row = {"id": rid, "asset_number": number, "brand_model": "联想 启天M437",
                       "level": rng.choice(("绝密", "机密", "秘密", "秘密")), "responsible_person": person,
                       "department": dept, "department__pinyin": sort_key(dept), "status": status,
                       "start_date": dt.date(2024, 1, 1), **stored}
                if ledger is CLASSIFIED_COMPUTERS:
                    row.update(device_type="台式机", user=person, classified_on=dt.date(2024, 1, 1), network="单机")
                else:
                    row.update(media_type="U盘")
                row[LABEL_PRINTED] = None
                rows.append(row)
                records.append({"id": rid, "ledger": ledger.key, "label": number, "voided": False})
                if rng.random() < 0.97:  # labelled: the history's event and when (as PrintService.labels)
                    events.append({"id": event_id, "record_id": rid, "ledger": ledger.key, "at": now,
                                   "actor": "bench", "action": "label", "reason": "密级标识"})
                    row[LABEL_PRINTED] = now
                    event_id += 1
                if status != "在用":
                    day = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 330))
                    events.append({"id": event_id, "record_id": rid, "ledger": ledger.key, "at": now,
                                   "actor": "bench", "action": "status", "effective_date": day})
                    changes.append({"event_id": event_id, "field": "status", "old_value": "在用", "new_value": status})
                    if status in ("外出", "借出"):
                        changes.append({"event_id": event_id, "field": "return_by" if status == "外出" else "due_back",
                                        "new_value": (day + dt.timedelta(days=rng.randint(3, 40))).isoformat()})
                    event_id += 1
                if len(rows) >= BATCH:
                    for table, batch in ((Record, records), (t, rows), (RecordEvent, events), (FieldChange, changes)):
                        if batch:
                            s.execute(insert(table), batch)
                            batch.clear()
            for table, batch in ((Record, records), (t, rows), (RecordEvent, events), (FieldChange, changes)):
                if batch:
                    s.execute(insert(table), batch)
            made[ledger.key] = int(devices * share)
    with db.write() as s:
        s.execute(text("ANALYZE"))
    return {"build_s": round(time.perf_counter() - start, 1), **{f"{k}_added": v for k, v in made.items()}}


def measure(db: Database, day: dt.date) -> dict:
    services = Services(db, Actor.local_security_admin(), clock=lambda: dt.datetime.combine(day, dt.time(8)))
    due = services.due
    times, cpu, listed = [], [], None
    for _ in range(9):
        t0, c0 = time.perf_counter(), time.process_time()
        listed = due.due(per_rule=due_module.FIRST_SCREEN)  # as the 首页 asks
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    rules = {}
    for rule in due.rules_for():  # each rule's share, read once on its own
        with db.session() as session:
            ctx = due_module.DueContext(session, day, dt.datetime.combine(day, dt.time(8)), services.actor, db,
                                        due.data_dir, due.thresholds()[rule.key], limit=due_module.FIRST_SCREEN + 1)
            t0 = time.perf_counter()
            n = len(list(rule.read(ctx)))
            rules[rule.key] = {"ms": ms(time.perf_counter() - t0), "items": n}
    return {"day": day.isoformat(), "ms_median": ms(statistics.median(times)), "ms_max": ms(max(times)),
            "cpu_ms_median": ms(statistics.median(cpu)), "items": len(listed.items), "counts": listed.counts(),
            "failed": list(listed.failed), "rules": rules}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--work", type=Path, default=None, help="a folder to build in (kept); by default a temp one")
    parser.add_argument("--staff", type=int, default=20_000)
    parser.add_argument("--devices", type=int, default=100_000)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_due_"))
    work.mkdir(parents=True, exist_ok=True)
    target = work / "mibao.sqlite"
    figures: dict = {}
    if not target.exists():
        t0 = time.perf_counter()
        shutil.copyfile(args.source, target)
        figures["copy_s"] = round(time.perf_counter() - t0, 1)
        db = Database.open(target)
        figures.update(build(db, args.staff, args.devices))
    else:
        db = Database.open(target)
    with db.session() as s:
        figures["carrier_copies"] = s.scalar(text("SELECT count(*) FROM ledger_carrier_copies"))
        figures["staff"] = s.scalar(text("SELECT count(*) FROM ledger_people"))
        figures["devices"] = s.scalar(text("SELECT count(*) FROM ledger_computers")) + \
            s.scalar(text("SELECT count(*) FROM ledger_media"))
    figures["load_average"] = round(os.getloadavg()[0], 1)
    figures["target_ms"] = 200
    figures["mid_year"] = measure(db, dt.date(2026, 6, 15))
    figures["december"] = measure(db, dt.date(2026, 12, 10))
    figures["database"] = str(target)
    db.close()
    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
