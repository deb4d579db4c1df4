"""Benchmark: the filter keystrokes of bench_carriers.py (issue 13 item 8: p95 ≤ 50 ms at 100,000
carriers with 1,000,000 copies), with the carriers' texts read in order (revision 0029), read in
order but each walk from the first row (not from where the word typed before began,
``RecordRepository.WALK_FROM_NARROWER``), and without, one after the other in this one process.
Prints one JSON object.

    .venv/bin/python bench/bench_carrier_keystrokes.py --reuse DIR [--passes 3]

``DIR`` holds a database kept by ``bench_carriers.py --keep DIR`` (opening it upgrades it). The
words typed are bench_carriers.py's: a carrier's number, the start of its title, its 文号 and a
holder's name, typed a character at a time in the carriers' ledger, and a name and 借出 in the
copies'; each prefix's time is the median of the passes. On a shared machine the wall time
includes waiting for a core: this process's CPU time is printed too, with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mibao_desktop.db import search_index  # noqa: E402
from mibao_desktop.db.database import Database  # noqa: E402
from mibao_desktop.ledgers import carriers as C  # noqa: E402
from mibao_desktop.security import Actor, Role  # noqa: E402
from mibao_desktop.services.context import Services  # noqa: E402
from mibao_desktop.services import repository  # noqa: E402
from mibao_desktop.services.repository import LedgerQuery, RecordRepository  # noqa: E402


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def p95(values: list[float]) -> float:
    return ms(statistics.quantiles(values, n=20)[18])


def keystrokes(service, words, passes: int) -> dict[str, tuple[float, float]]:
    runs: dict[str, list[tuple[float, float]]] = {}
    for _ in range(passes):
        for ledger, word in words:
            for end in range(1, len(word) + 1):
                typed = word[:end]
                c0, w0 = time.process_time(), time.perf_counter()
                service.query(ledger, LedgerQuery(text=typed, limit=200), count=False)
                runs.setdefault(f"{'载体' if ledger is C.CARRIERS else '份'}:{typed}", []).append(
                    (time.process_time() - c0, time.perf_counter() - w0))
    return {k: (statistics.median(c for c, _ in v), statistics.median(w for _, w in v)) for k, v in runs.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reuse", type=Path, required=True)
    ap.add_argument("--passes", type=int, default=3)
    args = ap.parse_args()
    db = Database.open(args.reuse / "mibao.sqlite")
    services = Services(db, Actor("bench", Role.SECURITY_ADMIN), args.reuse)
    service = services.ledgers
    # bench_carriers.py's words
    carrier = service.get(service.rows(C.CARRIERS, LedgerQuery(limit=1, offset=54321))[0].id)
    holder = service.get(service.rows(C.CARRIER_COPIES, LedgerQuery(limit=1, offset=654321))[0].id).display("holder")
    words = [(C.CARRIERS, w) for w in (carrier.number, carrier.display("title")[:6], carrier.display("doc_number"),
                                       holder)] + [(C.CARRIER_COPIES, w) for w in (holder, "借出")]
    figures: dict = {"words": [w for _, w in words]}
    walks = dict(search_index.WALKS)
    for name, kept, narrower in (("in_order", walks, True), ("in_order_from_the_first_row", walks, False),
                                 ("by_id", {}, True), ("in_order_again", walks, True)):
        search_index.WALKS.clear()
        search_index.WALKS.update(kept)
        RecordRepository.WALK_FROM_NARROWER = narrower
        repository._WALK_STARTS.clear()
        times = keystrokes(service, words, args.passes)
        cpu, wall = [c for c, _ in times.values()], [w for _, w in times.values()]
        figures[name] = {"keystrokes": len(times), "cpu_p50_ms": ms(statistics.median(cpu)), "cpu_p95_ms": p95(cpu),
                         "wall_p50_ms": ms(statistics.median(wall)), "wall_p95_ms": p95(wall),
                         "slowest_cpu_ms": {k: ms(c) for k, (c, _w) in sorted(times.items(), key=lambda kv: -kv[1][0])[:6]},
                         "load_average_1min": round(os.getloadavg()[0], 1)}
    search_index.WALKS.update(walks)
    figures["target_p95_ms"] = 50
    figures["cpus"] = os.cpu_count()
    db.close()
    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
