"""Benchmark: LedgerService.create_many of 100,000 classified computers into an empty SQLite
database, as an import hands them over (text cells, two people per row from 2,000 names,
MACs, disks). Prints one JSON object: rows/s of the dry run (the preview) and of the real
import, and the peak RSS.

    .venv/bin/python bench/bench_import_service.py [--rows 100000] [--profile dry|real]

Target (issue 10): ≥ 8,000 rows/s for the real import of 100,000 rows; peak RSS well under 400 MB.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import inspect
import json
import pstats
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mibao_desktop.db.database import Database  # noqa: E402
from mibao_desktop.demo import computer_rows, sample_people  # noqa: E402
from mibao_desktop.security import Actor  # noqa: E402
from mibao_desktop.services.ledger_service import LedgerService  # noqa: E402


def as_cells(row: dict) -> dict:
    """A row as the importer hands it over: lists joined as a cell would hold them."""
    return {k: "；".join(v) if isinstance(v, list) else v for k, v in row.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--profile", choices=("dry", "real"), default=None)
    args = parser.parse_args()
    people = sample_people(random.Random(7), 2000)
    rows = [as_cells(r) for r in computer_rows(args.rows, people=people)]
    out: dict = {"rows": args.rows, "rss_with_input_rows_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    with tempfile.TemporaryDirectory() as folder:
        db = Database.open(Path(folder) / "mibao.sqlite")
        service = LedgerService(db, Actor.local_security_admin())
        numbers = list(range(2, args.rows + 2))
        for kind, dry in (("dry_run", True), ("import", False)):
            profiler = cProfile.Profile() if args.profile == ("dry" if dry else "real") else None
            start = time.perf_counter()
            if profiler:
                profiler.enable()
            extra = {"row_numbers": numbers} if "row_numbers" in inspect.signature(service.create_many).parameters else {}
            result = service.create_many("computers", rows, dry_run=dry, source="bench.xlsx", **extra)
            if profiler:
                profiler.disable()
            elapsed = time.perf_counter() - start
            assert not result.refused, result.refused[:3]
            del result  # its rows hold every record's values: not while the next run is measured
            out[kind] = {"seconds": round(elapsed, 2), "rows_per_s": round(args.rows / elapsed)}
            if profiler:
                pstats.Stats(profiler, stream=sys.stderr).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(45)
        db.close() if hasattr(db, "close") else None
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
