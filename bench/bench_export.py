"""Benchmark: export 100,000 computers to xlsx, against pandas.DataFrame.to_excel on the same rows.
Prints one JSON object of figures. Each export runs in its own process, so that its peak RSS is
its own.

    .venv/bin/pip install -e .[bench]   # pandas, for the comparison only
    .venv/bin/python bench/bench_export.py [--rows 100000] [--database FILE]

Target (issue 5): 100,000 rows in ≤ 15 s and ≤ 100 MB peak RSS, and faster than pandas.

"mibao" exports the table's default columns (the 15 shown ones), as 导出Excel does by default;
"mibao_all_columns" all 19; pandas writes the same 15 columns of the same rows. The shipped app
has no numpy, but with pandas installed openpyxl would import it (+13 MB), so the MiBao runs
block that import to measure what users run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _service(path: Path):
    from mibao_desktop.db.database import Database
    from mibao_desktop.security import Actor, Role
    from mibao_desktop.services.ledger_service import LedgerService

    return LedgerService(Database.open(path), Actor("bench", Role.SECURITY_ADMIN))


def child(kind: str, database: Path, out: Path) -> None:
    """Runs in a fresh process: one export, then its time and peak RSS as JSON."""
    if kind.startswith("mibao"):
        sys.modules["numpy"] = None  # as shipped: no numpy for openpyxl to pick up
    service = _service(database)
    ledger = service.ledger("computers")
    shown = [f for f in ledger.fields if f.shown]
    start = time.perf_counter()
    if kind.startswith("mibao"):
        from mibao_desktop.excel import export_ledger

        fields = None if kind == "mibao_all_columns" else [f.name for f in shown]
        rows = export_ledger(service, ledger, out, fields=fields, marking="机密")
    else:
        import pandas as pd

        from mibao_desktop.excel.export import cell_value

        with service.stream(ledger) as stream:
            records = [{f.label: cell_value(f, values[f.name]) for f in shown} for values in stream]
        pd.DataFrame.from_records(records).to_excel(out, index=False, engine="openpyxl")
        rows = len(records)
    elapsed = time.perf_counter() - start
    print(json.dumps({"rows": rows, "seconds": round(elapsed, 1),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                      "file_mb": round(out.stat().st_size / 2**20, 1)}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database", type=Path, help="reuse a database that already holds the rows")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "DATABASE", "OUT"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    folder = Path(tempfile.mkdtemp(prefix="mibao-bench-export-"))
    database = args.database or folder / "mibao.sqlite"
    if args.database is None:
        from mibao_desktop.demo import computer_rows

        service = _service(database)
        rows = computer_rows(args.rows)
        while batch := [row for _, row in zip(range(10_000), rows)]:
            service.create_many("computers", batch)
        service.db.close()
    figures = {}
    for kind in ("mibao", "mibao_all_columns", "pandas"):
        out = folder / f"{kind}.xlsx"
        run = subprocess.run([sys.executable, __file__, "--child", kind, str(database), str(out)],
                             capture_output=True, text=True)
        if run.returncode:
            figures[kind] = {"error": run.stderr.strip().splitlines()[-1] if run.stderr else "failed"}
            continue
        figures[kind] = json.loads(run.stdout.strip().splitlines()[-1])
    ours, theirs = figures["mibao"], figures.get("pandas", {})
    figures["targets_met"] = (ours.get("seconds", 99) <= 15 and ours.get("peak_rss_mb", 999) <= 100
                              and ("seconds" not in theirs or ours["seconds"] < theirs["seconds"]))
    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
