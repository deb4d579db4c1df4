"""Benchmark: how many scanned codes a second a stocktaking (盘点) saves (issue 15 item 2: a USB
scanner types up to 20 codes a second; none may be lost, and the queue should not grow).
Prints one JSON object.

    .venv/bin/python bench/bench_stocktake_scans.py [--computers 2000] [--codes 200]

The computers are registered through LedgerService.create_many (one transaction, as an import),
then a department's session is opened and the codes saved as the desktop saves them: one at a
time (StocktakeService.scan, a transaction each) and in the batches the dialog's queue gathers
while the last save runs (StocktakeService.save_many, a transaction per batch). Also timed: the
list of the department and the close (a finding and a history entry per record).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mibao_desktop.db.database import Database  # noqa: E402
from mibao_desktop.security import Actor  # noqa: E402
from mibao_desktop.services.context import Services  # noqa: E402

DEPARTMENTS = ("科研一处", "科研二处", "保密办", "综合处")


def computer(i: int) -> dict:
    return dict(asset_number=f"JM-{i:06d}", device_type="台式机", brand_model="联想 启天M437",
                serial_number=f"PC{i:08d}", level="机密", classified_on="2023-03-05", user="张伟",
                responsible_person="张伟", department=DEPARTMENTS[i % len(DEPARTMENTS)],
                disk_serials=f"WD-WCC{i:08d}", mac_addresses="00-1A-{:02X}-{:02X}-{:02X}-5E".format(
                    i >> 16 & 255, i >> 8 & 255, i & 255), location=f"科研楼{200 + i % 40}", network="单机")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--computers", type=int, default=2000)
    parser.add_argument("--codes", type=int, default=200)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mibao-bench-stocktake-"))
    db = Database.open(folder / "mibao.sqlite")
    s = Services(db, Actor.local_security_admin())
    t0 = time.perf_counter()
    s.ledgers.create_many("computers", (computer(i) for i in range(1, args.computers + 1)), total=args.computers)
    built = time.perf_counter() - t0
    st = s.stocktaking
    take = st.open("computers", "部门", DEPARTMENTS[0])
    t0 = time.perf_counter()
    listing = st.listing(take.id)
    list_ms = (time.perf_counter() - t0) * 1000
    numbers = [x.number for x in listing.lines]
    half = args.codes // 2
    one, batched = numbers[:half], numbers[half:args.codes]
    t0 = time.perf_counter()
    for code in one:
        st.scan(take.id, code)
    one_each = (time.perf_counter() - t0) / max(len(one), 1)
    t0 = time.perf_counter()
    for start in range(0, len(batched), 10):  # ten a batch: half a second of a scanner at 20 a second
        st.save_many(take.id, [("scan", c) for c in batched[start:start + 10]])
    per_batched = (time.perf_counter() - t0) / max(len(batched), 1)
    t0 = time.perf_counter()
    report = st.close(take.id)
    close_ms = (time.perf_counter() - t0) * 1000
    print(json.dumps({
        "computers": args.computers, "department_records": len(listing.lines), "build_s": round(built, 1),
        "list_ms": round(list_ms, 1),
        "scan_alone_ms": round(one_each * 1000, 1), "scans_per_s_alone": round(1 / one_each, 1),
        "scan_in_batches_of_10_ms": round(per_batched * 1000, 1), "scans_per_s_batched": round(1 / per_batched, 1),
        "close_ms": round(close_ms, 1), "findings": len(report.lines),
    }, ensure_ascii=False))
    db.close()


if __name__ == "__main__":
    main()
