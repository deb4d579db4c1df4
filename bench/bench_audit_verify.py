"""Benchmark: the auditor's 校验完整性 on a long audit log. Prints one JSON object.

    .venv/bin/python bench/bench_audit_verify.py [--entries 1000000] [--batch 5000]

Writes ``--entries`` validly chained entries into a new SQLite file (audit.carry, in bulk),
then times audit.verify as the window runs it (with progress and cancelled callbacks): the
whole walk, the longest gap between two progress reports (how long 取消 can take to stop
it), and a walk cancelled halfway. The walk runs on a worker (ui/tasks.py); the figure that
used to freeze the window is the whole walk.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mibao_desktop.db.database import Database  # noqa: E402
from mibao_desktop.security import Actor, Role  # noqa: E402
from mibao_desktop.services import audit  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    args = parser.parse_args()
    at = dt.datetime(2026, 11, 2, 9, 0, 0)
    with tempfile.TemporaryDirectory() as folder:
        db = Database.open(Path(folder) / "mibao.sqlite")
        try:
            start = time.perf_counter()
            old = ({"id": n, "at": str(at), "actor": "baomi", "role": "安全保密管理员", "action": "record.update",
                    "target": f"computers:JM-{n:07d}", "detail": {"changes": {"user": ["张三", "李四"]}},
                    "hash": f"{n:064x}"} for n in range(1, args.entries + 1))
            with db.write() as s:
                audit.carry(s, old, at=at, actor=Actor("baomi", Role.SECURITY_ADMIN))
            written = time.perf_counter() - start

            reports: list[float] = []
            start = time.perf_counter()
            with db.session() as s:
                result = audit.verify(s, args.batch, progress=lambda d, t: reports.append(time.perf_counter()),
                                      cancelled=lambda: False)
            whole = time.perf_counter() - start
            gaps = [b - a for a, b in zip(reports, reports[1:])]

            half, asked = args.entries // 2, []
            start = time.perf_counter()
            try:
                with db.session() as s:
                    audit.verify(s, args.batch, progress=lambda d, t: asked.append(d),
                                 cancelled=lambda: bool(asked) and asked[-1] >= half)
                stopped = None
            except audit.VerifyCancelled as exc:
                stopped = exc.checked
            cancelled_after = time.perf_counter() - start
        finally:
            db.close()
    print(json.dumps({"entries": args.entries, "batch": args.batch, "write_s": round(written, 2),
                      "verify_s": round(whole, 2), "ok": result.ok, "checked": result.checked,
                      "progress_reports": len(reports), "longest_gap_between_reports_s": round(max(gaps or [0]), 3),
                      "cancelled_at_entry": stopped, "cancelled_walk_s": round(cancelled_after, 2)},
                     ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
