"""Benchmark: the copies a department's check expects (issue 13 item 8: one month's check list for a
department ≤ 200 ms at 100,000 carriers and 1,000,000 copies). Prints one JSON object.

    .venv/bin/python bench/bench_expected_copies.py --reuse DIR [--department 科研一处]

Reads a database kept by bench_carriers.py or bench_carrier_checks.py (``--keep DIR``), and
times, in this one process and one after the other (the machine is shared: CPU time of this
process and wall time, with the load average):

- ``lazy``: ``services/expected_copies.read`` — the carriers with their copies' counts and ids,
  the counts by state — then the first screenful of lines (what the dialog shows first);
- ``at_once``: every line made at once, as the list was read before (the same helpers);
- ``walk``: every line of the lazy list walked (what a close reads).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from mibao_desktop.db.database import Database  # noqa: E402
from mibao_desktop.db.schema import table_of  # noqa: E402
from mibao_desktop.ledgers import carriers as C  # noqa: E402
from mibao_desktop.security import Actor  # noqa: E402
from mibao_desktop.services import carrier_checks as CC  # noqa: E402
from mibao_desktop.services import expected_copies as E  # noqa: E402
from mibao_desktop.services.context import Services  # noqa: E402

SCREEN = 40


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def timed(fn, repeat: int):
    cpu, wall, result = [], [], None
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        result = fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return ms(statistics.median(cpu)), ms(statistics.median(wall)), result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reuse", type=Path, required=True)
    ap.add_argument("--department")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    db = Database.open(args.reuse / "mibao.sqlite")
    ledgers = Services(db, Actor.local_security_admin()).ledgers
    p = table_of(C.CARRIERS)
    with ledgers._read() as session:
        department = args.department or session.execute(
            select(p.c.department).group_by(p.c.department).order_by(func.count().desc()).limit(1)).scalar()
    info = SimpleNamespace(scope=CC.DEPARTMENT, scope_value=department, person_id=None)
    figures: dict = {"department": department}

    def lazy():
        with ledgers._read() as session:
            expected = E.read(session, info, {}, ledgers._read)
        return expected, expected[0:SCREEN]

    def at_once():
        gc.disable()  # as the service reads it
        try:
            with ledgers._read() as session:
                rows = sorted(CC._fetch(session, CC._scope_query(info)), key=CC._BY_NUMBER)
                names = CC._labels(session, {r[CC._PERSON] for r in rows})
                lines = [CC._line(r, names, None) for r in rows]
                CC._sent(session, lines)
                return lines
        finally:
            gc.enable()

    lazy()  # warm the cache as a second look at the list would find it
    figures["lazy_cpu_ms"], figures["lazy_wall_ms"], (expected, screen) = timed(lazy, args.repeat)
    figures["copies_listed"] = len(expected)
    figures["states"] = dict(expected.states)
    figures["at_once_cpu_ms"], figures["at_once_wall_ms"], lines = timed(at_once, max(1, args.repeat // 2))
    figures["same_first_screen"] = screen == lines[:SCREEN]
    figures["walk_cpu_ms"], figures["walk_wall_ms"], walked = timed(lambda: sum(1 for _ in expected), 1)
    last = lines[-1].copy_id if hasattr(lines[-1], "copy_id") else lines[-1].record_id
    parent = ledgers.get(last).parent_id
    _cpu, figures["position_of_a_scanned_copy_ms"], row = timed(lambda: expected.position(last, parent), 3)
    assert row == len(lines) - 1 and walked == len(lines)
    figures["target_ms"] = 200
    figures["load_average_1min"] = round(os.getloadavg()[0], 1)
    figures["cpus"] = os.cpu_count()
    db.close()
    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
