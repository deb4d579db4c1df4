"""Benchmark: the annual report's 汇总 figures (services/annual_figures.py) on a large ledger.
Prints one JSON object.

    .venv/bin/python bench/bench_annual.py --database DIR/mibao.sqlite [--year 2026] [--as-is]

Use a database bench_scale.py kept (``--keep DIR``: a million classified computers). ``--as-is``
reads the file without upgrading it (a copy of an older database; the summary's queries read
only columns every revision has). Each ledger's figures are timed alone and all together (what
the report does, in one snapshot), with SQLite's plan of each kind of query, so that a scan of a
ledger's rows would show as ``SCAN ledger_…``.

Target (issue 9): one ledger's annual summary ≤ 1 s at a million records.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from mibao_desktop.ledgers import top_level  # noqa: E402
from mibao_desktop.services.annual_figures import ledger_figures  # noqa: E402


def timed(fn, repeat: int = 3):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 1), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--year", type=int, default=dt.date.today().year)
    parser.add_argument("--as-is", action="store_true", help="do not upgrade the file (read it as it is)")
    args = parser.parse_args()
    if args.as_is:
        engine = create_engine(f"sqlite:///file:{args.database}?mode=ro&uri=true")
        session = lambda: Session(engine)  # noqa: E731
    else:
        from mibao_desktop.db.database import Database

        session = Database.open(args.database).session
    figures: dict = {"year": args.year}
    with session() as s:
        figures["records"] = {l.key: s.execute(text(f"SELECT sum(count) FROM facet_counts WHERE ledger = :k "
                                                     f"AND field = 'status'"), {"k": l.key}).scalar() or 0
                              for l in top_level()}
        figures["events_in_year"] = s.execute(text("SELECT count(*) FROM record_events WHERE at >= :a AND at < :b"),
                                              {"a": f"{args.year}-01-01", "b": f"{args.year + 1}-01-01"}).scalar()
        per_ledger = {}
        for ledger in top_level():
            ms, result = timed(lambda: ledger_figures(s, ledger, args.year))
            per_ledger[ledger.key] = {"ms": ms, "total": result.total(),
                                      "added": None if result.added is None else sum(result.added.values()),
                                      "moved": sum(result.moved.values()), "voided": sum(result.voided.values())}
        figures["per_ledger"] = per_ledger
        figures["all_ledgers_ms"], _ = timed(lambda: [ledger_figures(s, l, args.year) for l in top_level()])
        plans = {}
        statements = {
            "status_range": "SELECT level, count(*) FROM ledger_computers WHERE status = '停用' AND voided = 0 "
                            "GROUP BY level",
            "in_service_range": "SELECT level, count(*) FROM ledger_computers WHERE start_date >= :a "
                                "AND start_date < :b AND voided = 0 GROUP BY level",
            "year_events": "SELECT e.action, f.new_value, t.level, count(*) FROM record_events e "
                           "JOIN ledger_computers t ON t.id = e.record_id LEFT OUTER JOIN field_changes f "
                           "ON f.event_id = e.id AND f.field = 'status' WHERE e.ledger = 'computers' "
                           "AND e.at >= :a AND e.at < :b AND e.action IN ('create', 'status', 'void') "
                           "GROUP BY 1, 2, 3",
        }
        if s.get_bind().dialect.name == "sqlite":
            for name, sql in statements.items():
                rows = s.execute(text("EXPLAIN QUERY PLAN " + sql), {"a": f"{args.year}-01-01",
                                                                      "b": f"{args.year + 1}-01-01"}).all()
                plans[name] = [r[-1] for r in rows]
        figures["plans"] = plans
    biggest = max(per_ledger.values(), key=lambda f: f["total"])
    figures["targets_met"] = {"one_ledger_le_1s": biggest["ms"] <= 1000}
    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
