"""Benchmark: state-secret carriers copy by copy (issue 13 item 8). Prints one JSON object.

    .venv/bin/python bench/bench_carriers.py [--carriers 100000] [--copies-each 10]
                                             [--database postgresql://…] [--keep DIR | --reuse DIR]

Builds 100,000 carriers with ten copies each (1,000,000 copies) through the import path
(``create_many``), a register of 1,000 people, then through the recorded actions
(services/carrier_actions.py) lends some copies (some overdue) and marks some missing, as a unit's
year would. ``--keep DIR`` leaves the SQLite file there and ``--reuse DIR`` measures it again.

Targets (issue 13): first page of copies ≤ 100 ms; filter keystroke p95 ≤ 50 ms; list of overdue
and missing copies ≤ 50 ms; one month's check list for a department ≤ 200 ms; a destruction
list of 500 copies to PDF ≤ 2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mibao_desktop.db.database import Database  # noqa: E402
from mibao_desktop.demo import sample_people  # noqa: E402
from mibao_desktop.ledgers import carriers as C  # noqa: E402
from mibao_desktop.ledgers import levels  # noqa: E402
from mibao_desktop.ledgers.samples import DEPARTMENTS  # noqa: E402
from mibao_desktop.security import Actor, Role  # noqa: E402
from mibao_desktop.services.context import Services  # noqa: E402
from mibao_desktop.services.repository import LedgerQuery  # noqa: E402

BATCH = 5_000  # carriers per create_many call (their copies follow in one call each)
TITLES = ("关于加强保密管理工作的通知", "年度科研计划", "型号设计图纸", "技术方案评审意见", "保密检查情况通报",
          "试验大纲", "质量问题归零报告", "会议纪要", "合同文本", "工艺规程")


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def timed(fn, repeat: int = 3):
    """The median of ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def build(services: Services, carriers: int, each: int, figures: dict) -> None:
    service = services.ledgers
    rng = random.Random(13)
    people = sample_people(rng, 1000)
    service.create_many("people", [{"name": n, "department": rng.choice(DEPARTMENTS)} for n in people])
    spent_carriers = spent_copies = 0.0
    made = 0
    for start in range(0, carriers, BATCH):
        rows, copies = [], []
        for n in range(start + 1, min(carriers, start + BATCH) + 1):
            year = 2016 + n % 10
            number = f"ZT-{year}-{n:06d}"
            department = DEPARTMENTS[n % len(DEPARTMENTS)]
            rows.append({
                "carrier_number": number, "title": f"{rng.choice(TITLES)}({n})",
                "doc_number": f"保字〔{year}〕{n % 500 + 1}号", "issuer": rng.choice(("上级机关", "本单位", "合作单位")),
                "level": rng.choices(levels.LEVELS, (1, 4, 8))[0], "classified_on": f"{year}-03-0{n % 9 + 1}",
                "form": "纸质", "copies": each, "scope": f"{department}相关人员", "source": "接收",
                "received_on": f"{year}-03-1{n % 9 + 1}", "keeper": rng.choice(people), "department": department,
                "location": f"{department}保密柜",
            })
            copies += [{"_parent": number, "copy_number": k, "holder": rng.choice(people)} for k in range(1, each + 1)]
        t0 = time.perf_counter()
        result = service.create_many(C.CARRIERS.key, rows)
        spent_carriers += time.perf_counter() - t0
        assert not result.refused, result.refused[:3]
        t0 = time.perf_counter()
        result = service.create_many(C.CARRIER_COPIES.key, copies)
        spent_copies += time.perf_counter() - t0
        assert not result.refused, result.refused[:3]
        made += len(copies)
        print(f"  {start + len(rows)} carriers, {made} copies, {int(made / spent_copies)} copies/s",
              file=sys.stderr, flush=True)
    figures["carriers_import_rows_per_s"] = int(carriers / spent_carriers)
    figures["copies_import_rows_per_s"] = int(made / spent_copies)
    # a year's recorded actions: loans (a third of them overdue) and copies gone missing
    actions = services.carrier_actions
    ids = [r.id for r in service.rows(C.CARRIER_COPIES, LedgerQuery(limit=3000, offset=len(people)))]
    today = dt.date.today()
    t0 = time.perf_counter()
    for k, copy_id in enumerate(ids[:1500]):
        actions.lend([copy_id], {"borrower": rng.choice(people), "approver": "王主任", "beyond_scope": "工作需要",
                                 "due_back": (today + dt.timedelta(days=rng.randint(-30, 60))).isoformat()},
                     effective_date=today - dt.timedelta(days=rng.randint(31, 90)))
    for copy_id in ids[1500:1700]:
        actions.missing([copy_id], {"circumstances": "清点时未找到"},
                        effective_date=today - dt.timedelta(days=rng.randint(0, 50)))
    figures["actions"] = 1700
    figures["action_ms"] = ms((time.perf_counter() - t0) / 1700)


def keystrokes(service, ledger, words: list[str], passes: int = 3) -> list[tuple[float, str]]:
    runs: dict[str, list[float]] = {}
    for _ in range(passes):
        for word in words:
            for end in range(1, len(word) + 1):
                text = word[:end]
                t, _ = timed(lambda: service.query(ledger, LedgerQuery(text=text, limit=200), count=False), repeat=1)
                runs.setdefault(text, []).append(t)
    return [(statistics.median(t), text) for text, t in runs.items()]


def measure(services: Services, figures: dict) -> None:
    service = services.ledgers
    first, page = timed(lambda: service.query(C.CARRIER_COPIES, LedgerQuery(limit=200)))
    figures["copies"] = page.total
    figures["first_page_of_copies_ms"] = ms(first)
    sample = service.rows(C.CARRIERS, LedgerQuery(limit=1, offset=54321))[0]
    carrier = service.get(sample.id)
    copy_row = service.rows(C.CARRIER_COPIES, LedgerQuery(limit=1, offset=654321))[0]
    holder = service.get(copy_row.id).display("holder")
    words_carriers = [carrier.number, carrier.display("title")[:6], carrier.display("doc_number"), holder]
    words_copies = [holder, "借出"]
    typed = [(t, "载体:" + w) for t, w in keystrokes(service, C.CARRIERS, words_carriers)]
    typed += [(t, "份:" + w) for t, w in keystrokes(service, C.CARRIER_COPIES, words_copies)]
    times = [t for t, _ in typed]
    figures["keystrokes"] = len(typed)
    figures["keystroke_words"] = {"carriers": words_carriers, "copies": words_copies}
    figures["keystroke_p50_ms"] = ms(statistics.median(times))
    figures["keystroke_p95_ms"] = ms(statistics.quantiles(times, n=20)[18])
    figures["slowest_keystrokes_ms"] = {w: ms(t) for t, w in sorted(typed, reverse=True)[:6]}
    t, watch = timed(lambda: services.carrier_watch.watch(), repeat=5)
    figures["overdue_and_missing_ms"] = ms(t)
    figures["overdue_and_missing"] = {k: len(v) for k, v in vars(watch).items() if isinstance(v, (list, tuple))}
    checks = services.stocktaking  # the carriers' checks are stocktakings of the copies
    department = carrier.values["department"]
    from mibao_desktop.services import carrier_checks

    kind = carrier_checks.MONTHLY
    check = checks.open(carrier_checks.COPIES.key, carrier_checks.DEPARTMENT, department, kind=kind,
                        period=carrier_checks.current_period(kind, dt.date.today()))
    t, listed = timed(lambda: checks.listing(check.id), repeat=3)
    figures["month_check_list_ms"] = ms(t)
    figures["month_check_list_copies"] = len(listed.lines) if hasattr(listed, "lines") else None
    ids = [r.id for r in service.rows(C.CARRIER_COPIES, LedgerQuery(limit=500, offset=200_000))]

    def destruction_pdf():
        records = services.printing.records(C.CARRIER_COPIES, ids)
        out = io.BytesIO()
        pages = services.printing.form("destruction", C.CARRIER_COPIES, records, out, record=False)
        return pages, len(out.getvalue())
    t, (pages, size) = timed(destruction_pdf, repeat=2)
    figures["destruction_list_500_pdf_ms"] = ms(t)
    figures["destruction_list_pages"] = pages


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--carriers", type=int, default=100_000)
    parser.add_argument("--copies-each", type=int, default=10)
    parser.add_argument("--database", help="a postgresql:// URL (default: a new SQLite file)")
    parser.add_argument("--keep", type=Path, help="build the SQLite file in this folder and keep it")
    parser.add_argument("--reuse", type=Path, help="measure the SQLite file kept in this folder")
    parser.add_argument("--measure-only", action="store_true",
                        help="with --database: measure the PostgreSQL database built by an earlier run")
    args = parser.parse_args()
    folder = args.reuse or args.keep or Path(tempfile.mkdtemp(prefix="mibao-bench-"))
    target = args.database or folder / "mibao.sqlite"
    db = Database.open(target)
    services = Services(db, Actor("bench", Role.SECURITY_ADMIN), folder)
    figures: dict = {"engine": db.dialect}
    if not (args.reuse or args.measure_only):
        build(services, args.carriers, args.copies_each, figures)
    measure(services, figures)
    if db.is_sqlite:
        figures["database_mb"] = round(db.path.stat().st_size / 2**20, 1)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    figures["targets_met"] = {
        "first_page": figures["first_page_of_copies_ms"] <= 100, "keystroke_p95": figures["keystroke_p95_ms"] <= 50,
        "overdue_and_missing": figures["overdue_and_missing_ms"] <= 50,
        "month_check_list": figures["month_check_list_ms"] <= 200,
        "destruction_list_pdf": figures["destruction_list_500_pdf_ms"] <= 2000,
    }
    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
