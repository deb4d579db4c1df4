"""Benchmark: read_sheets on a large ledger. Prints one JSON object of figures; each read runs in
its own process, so that its peak RSS is its own.

    .venv/bin/python bench/bench_read.py [--rows 100000] [--xls-rows 65535] [--openpyxl]

Target (issue 10): 100,000 rows × 15 columns of xlsx in a few seconds and well under 400 MB
peak RSS (openpyxl took ~30 s). Files:

- xlsx: 100,000 × 15 (text, Chinese text, numbers, dates), written by openpyxl write_only;
- xlsx_formatted: the same with the number column in format 000000 and every 100th row struck
  through, so that the byte scan of the sheet XML runs over every row;
- xls: 65,535 × 15 (BIFF8's row limit less the header), written by xlwt.

The files are generated once into the temp directory and reused (--fresh to rebuild).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HEADER = ["序号", "设备编号", "品牌型号", "密级", "定密日期", "使用人", "责任人", "所在部门", "硬盘序号",
          "物理地址", "操作系统", "安装日期", "用途", "状态", "备注"]


def _row(i: int) -> list:
    return [i, f"JM-{i:06d}", "联想 ThinkCentre M920t", ("绝密", "机密", "秘密")[i % 3],
            dt.datetime(2019, 1, 1) + dt.timedelta(days=i % 2000), f"张{i % 500}", f"李{i % 300}",
            f"科研{i % 20}处", f"WD-{i * 7919 % 10**8:08d}", f"00-1A-2B-{i % 256:02X}-{i // 256 % 256:02X}-01",
            "Windows 10", dt.datetime(2020, 6, 1), "科研生产", "在用", "无" if i % 7 else "已更换硬盘"]


def make_xlsx(path: Path, rows: int, formatted: bool) -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("台账")
    ws.append(HEADER)
    struck = Font(strike=True)
    for i in range(1, rows + 1):
        values = _row(i)
        if formatted:
            cells = []
            for c, value in enumerate(values):
                cell = WriteOnlyCell(ws, value)
                if c == 0:
                    cell.number_format = "000000"
                if i % 100 == 0:
                    cell.font = struck
                cells.append(cell)
            ws.append(cells)
        else:
            ws.append(values)
    wb.save(path)


def make_xls(path: Path, rows: int) -> None:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("台账")
    date = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for c, title in enumerate(HEADER):
        ws.write(0, c, title)
    for i in range(1, rows + 1):
        for c, value in enumerate(_row(i)):
            ws.write(i, c, value, date) if isinstance(value, dt.date) else ws.write(i, c, value)
    wb.save(str(path))


def child(path: Path, engine: str) -> None:
    start = time.perf_counter()
    if engine == "openpyxl":
        import openpyxl
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        count = sum(1 for ws in wb.worksheets for _ in ws.iter_rows(values_only=True))
        notes: list[str] = []
    else:
        from mibao_desktop.excel.reader import read_sheets
        sheets = read_sheets(path)
        count = sum(len(s.rows) for s in sheets)
        notes = [n for s in sheets for n in s.notes]
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    print(json.dumps({"seconds": round(seconds, 2), "peak_rss_mb": round(peak), "rows": count, "notes": notes},
                     ensure_ascii=False))


def _run(path: Path, engine: str = "mibao") -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(path), "--engine", engine],
                         capture_output=True, text=True, check=True)
    figures = json.loads(out.stdout)
    figures["file_mb"] = round(path.stat().st_size / 1024 / 1024, 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--xls-rows", type=int, default=65_535)
    parser.add_argument("--openpyxl", action="store_true", help="also time openpyxl read_only on the xlsx")
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--child")
    parser.add_argument("--engine", default="mibao")
    args = parser.parse_args()
    if args.child:
        child(Path(args.child), args.engine)
        return
    folder = Path(tempfile.gettempdir()) / "mibao-bench-read"
    folder.mkdir(exist_ok=True)
    files = {
        "xlsx": (folder / f"ledger-{args.rows}.xlsx", lambda p: make_xlsx(p, args.rows, False)),
        "xlsx_formatted": (folder / f"ledger-{args.rows}-formatted.xlsx", lambda p: make_xlsx(p, args.rows, True)),
        "xls": (folder / f"ledger-{args.xls_rows}.xls", lambda p: make_xls(p, args.xls_rows)),
    }
    figures = {}
    for name, (path, make) in files.items():
        if args.fresh or not path.exists():
            make(path)
        figures[name] = _run(path)
        figures[name]["columns"] = len(HEADER)
    if args.openpyxl:
        figures["xlsx_openpyxl_read_only"] = _run(files["xlsx"][0], "openpyxl")
    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
