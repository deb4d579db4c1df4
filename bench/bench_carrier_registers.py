"""Benchmark: a carriers' register read for a period, printed and exported (issue 13 item 6).
Prints one JSON object.

    .venv/bin/python bench/bench_carrier_registers.py [--carriers 500] [--dir DIR]

Makes a new SQLite database holding ``--carriers`` carriers of 2 copies, each copy destroyed
on its own day (so the 销毁清单 has a row per copy: 2 × carriers rows), and times reading the
register for the whole period, drawing it as PDF and writing the workbook (the median of 3).

Target (issue 13 item 8's neighbour): a destruction list of 500 copies to PDF ≤ 2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mibao_desktop.db.database import Database  # noqa: E402
from mibao_desktop.excel.registers import write_register  # noqa: E402
from mibao_desktop.security import Actor  # noqa: E402
from mibao_desktop.services.context import Services  # noqa: E402

DESTROY = {"approver": "王局长", "supervisor_1": "李娜", "supervisor_2": "赵敏", "contractor": "市保密技术服务中心",
           "contractor_licence": "资质 ZJ-017", "destroy_method": "送交承销单位销毁", "reason": "已过保存期"}


def timed(fn, repeat: int = 3):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 1), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--carriers", type=int, default=250)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="mibao-bench-registers-"))
    db = Database.open(folder / "mibao.sqlite")
    s = Services(db, Actor.local_security_admin())
    for name in ("李娜", "赵敏"):
        s.ledgers.create("people", {"name": name, "department": "保密办"})
    today = dt.date.today()
    start = today - dt.timedelta(days=args.carriers * 2 + 10)
    made = time.perf_counter()
    for n in range(args.carriers):
        carrier = s.carrier_actions.register({
            "carrier_number": f"SW-{n:05d}", "title": f"关于做好第 {n} 批涉密文件清理工作的通知", "level": "机密",
            "copies": 2, "scope": "保密办", "keeper": "李娜", "department": "保密办", "received_on": start.isoformat()})
        for i, copy in enumerate(s.carrier_actions.copies(carrier.id)):
            s.carrier_actions.destroy([copy.id], DESTROY, effective_date=start + dt.timedelta(days=2 * n + i + 1))
    made = time.perf_counter() - made
    registers = s.carrier_registers
    read_ms, table = timed(lambda: registers.read("destroyed", start, today))
    pdf_ms, pages = timed(lambda: registers.print(table, io.BytesIO(), record=False))
    xlsx_ms, _rows = timed(lambda: write_register(table, folder / "销毁清单.xlsx", marking=table.marking))
    print(json.dumps({"carriers": args.carriers, "rows": len(table.rows), "made_s": round(made, 1),
                      "read_ms": read_ms, "pdf_ms": pdf_ms, "pdf_pages": pages, "xlsx_ms": xlsx_ms,
                      "read_and_pdf_ms": round(read_ms + pdf_ms, 1)}, ensure_ascii=False))
    db.close()


if __name__ == "__main__":
    main()
