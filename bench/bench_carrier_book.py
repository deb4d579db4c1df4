"""Benchmark: importing a hand-kept carrier book (issue 13 item 7), one row per document with
its 份数 and a 份号 range (1-10), through the real importer into an empty SQLite database.
Prints one JSON object: the seconds to read the workbook, of the preview (dry run) and of the
import, and carriers and copies per second of the import.

    .venv/bin/python bench/bench_carrier_book.py [--carriers 2000] [--copies 10]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import openpyxl  # noqa: E402

from mibao_desktop.db.database import Database  # noqa: E402
from mibao_desktop.excel.importer import plan_import, run_import  # noqa: E402
from mibao_desktop.ledgers import LEDGERS  # noqa: E402
from mibao_desktop.security import Actor  # noqa: E402
from mibao_desktop.services.context import Services  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--carriers", type=int, default=2000)
    parser.add_argument("--copies", type=int, default=10, help="份数 of each carrier (份号 1-N)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mibao-bench-book-"))
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("登记簿")
    ws.append(["国家秘密载体登记簿"])
    ws.append(["登记编号", "文件标题", "文号", "密级", "份数", "份号", "保管人"])
    for i in range(args.carriers):
        ws.append([f"ZT-{i:06d}", "关于某事的通知", f"保字〔2024〕{i}号", "机密★10年", args.copies,
                   f"1-{args.copies}", ("李娜", "王芳", "赵强")[i % 3]])
    wb.save(folder / "book.xlsx")
    db = Database.open(folder / "mibao.sqlite")
    ledgers = Services(db, Actor.local_security_admin()).ledgers
    carriers = LEDGERS["carriers"]
    start = time.perf_counter()
    plan = plan_import(carriers, folder / "book.xlsx")
    read = time.perf_counter() - start
    start = time.perf_counter()
    preview = run_import(ledgers, plan, dry_run=True)
    dry = time.perf_counter() - start
    start = time.perf_counter()
    report = run_import(ledgers, plan_import(carriers, folder / "book.xlsx"))
    real = time.perf_counter() - start
    db.close()
    print(json.dumps({"carriers": args.carriers, "copies": report.children, "refused": len(report.refused),
                      "preview_copies": preview.children, "read_s": round(read, 2), "dry_run_s": round(dry, 2),
                      "import_s": round(real, 2), "carriers_per_s": round(report.created / real),
                      "copies_per_s": round(report.children / real)}))


if __name__ == "__main__":
    main()
