"""Benchmark: import 100,000 classified computers from a hand-kept .xlsx and from a legacy .xls,
end to end (read the file, find the header, check every row, store), into an empty SQLite
database. Prints one JSON object: seconds (wall and this process's CPU) and peak RSS for
reading, for the preview (dry run) and for the import, per format, with the machine's load
average. Each format runs in its own process, so that peak RSS is its own.

    .venv/bin/python bench/bench_import.py [--rows 100000] [--format xlsx|xls]

Targets (issue 10): 100,000 rows in ≤ 20 s with ≤ 400 MB peak RSS. A .xls sheet holds at most
65,536 rows (BIFF8), so the .xls file carries the rows on two sheets, imported one after the other.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HEADER = ["序号", "设备编号", "设备类型", "品牌型号", "机器序列号", "密级", "定密时间", "使用人", "责任人", "所在部门",
          "硬盘序列号", "MAC地址", "操作系统", "存放地点", "启用日期", "状态"]
CACHE = Path(tempfile.gettempdir()) / "mibao-bench-import"
XLS_SHEET_ROWS = 60_000


def rows(count: int):
    from mibao_desktop.demo import computer_rows, sample_people

    people = sample_people(random.Random(7), 2000)
    statuses = ["在用"] * 17 + ["停用", "维修", "报废"]
    rng = random.Random(11)
    for n, r in enumerate(computer_rows(count, people=people), start=1):
        yield [n, r["asset_number"], r["device_type"], r["brand_model"], r["serial_number"], r["level"],
               r["classified_on"], r["user"], r["responsible_person"], r["department"], "；".join(r["disk_serials"]),
               "；".join(r["mac_addresses"]), r["os"], r["location"], r["start_date"], rng.choice(statuses)]


def make_xlsx(count: int) -> Path:
    import openpyxl

    path = CACHE / f"computers-{count}-v2.xlsx"
    if path.exists():
        return path
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("涉密计算机")
    ws.append(["2025年度涉密计算机台账"])
    ws.append(["填报单位:某研究所"])
    ws.append(HEADER)
    for r in rows(count):
        ws.append(r)
    wb.save(path)
    return path


def make_xls(count: int) -> Path:
    import xlwt

    path = CACHE / f"computers-{count}-v2.xls"
    if path.exists():
        return path
    wb = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    sheet, line = None, 0
    for n, r in enumerate(rows(count)):
        if n % XLS_SHEET_ROWS == 0:
            sheet = wb.add_sheet(f"涉密计算机{n // XLS_SHEET_ROWS + 1}")
            for c, h in enumerate(HEADER):
                sheet.write(0, c, h)
            line = 1
        for c, v in enumerate(r):
            if hasattr(v, "year"):
                sheet.write(line, c, v, date_style)
            else:
                sheet.write(line, c, v)
        line += 1
    wb.save(str(path))
    return path


def peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_one(fmt: str, count: int) -> dict:
    from mibao_desktop.db.database import Database
    from mibao_desktop.excel.importer import plan_import, run_import
    from mibao_desktop.ledgers import LEDGERS
    from mibao_desktop.security import Actor
    from mibao_desktop.services.ledger_service import LedgerService

    CACHE.mkdir(exist_ok=True)
    path = make_xlsx(count) if fmt == "xlsx" else make_xls(count)
    ledger = LEDGERS["computers"]
    start_rss = peak_mb()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        service = LedgerService(Database.open(Path(folder) / "bench.sqlite"), Actor.local_security_admin())
        t0, c0 = time.perf_counter(), time.process_time()
        plan = plan_import(ledger, path)
        t_read, c_read = time.perf_counter() - t0, time.process_time() - c0
        sheets = [i for i in range(len(plan.sheets)) if plan.sheet_fields(i) >= 2]
        t_dry = t_import = c_dry = c_import = 0.0
        accepted = created = refused = reused = 0
        for index in sheets:
            plan.choose_sheet(index)
            t0, c0 = time.perf_counter(), time.process_time()
            preview = run_import(service, plan, dry_run=True)
            t_dry += time.perf_counter() - t0
            c_dry += time.process_time() - c0
            accepted += preview.accepted
            t0, c0 = time.perf_counter(), time.process_time()
            # as the wizard does: the import after its preview (which it reuses when nothing changed)
            report = run_import(service, plan, preview=preview)
            t_import += time.perf_counter() - t0
            c_import += time.process_time() - c0
            reused += report.reused
            del preview
            created += report.created
            refused += report.refused_rows
        service.db.close()
    return {
        "format": fmt, "rows": count, "file_mb": round(path.stat().st_size / 1e6, 1), "sheets": len(sheets),
        "read_s": round(t_read, 2), "preview_s": round(t_dry, 2), "import_s": round(t_import, 2),
        "read_plus_import_s": round(t_read + t_import, 2),
        # CPU seconds of this process (the machine may be shared: wall time then says little)
        "read_cpu_s": round(c_read, 2), "preview_cpu_s": round(c_dry, 2), "import_cpu_s": round(c_import, 2),
        "read_plus_import_cpu_s": round(c_read + c_import, 2),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],  # 1-minute, at start and end
        "rows_per_s": round(created / t_import) if t_import else None,
        "accepted": accepted, "created": created, "refused_rows": refused, "sheets_reusing_preview": reused,
        "peak_rss_mb": peak_mb(), "rss_before_mb": start_rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=("xlsx", "xls"))
    args = parser.parse_args()
    if args.format:
        print(json.dumps(run_one(args.format, args.rows), ensure_ascii=False))
        return
    figures = []
    for fmt in ("xlsx", "xls"):
        out = subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--format", fmt],
                             capture_output=True, text=True, check=True)
        figures.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(json.dumps({"targets": {"read_plus_import_s": 20, "peak_rss_mb": 400}, "results": figures},
                     ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
