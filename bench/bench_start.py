"""Benchmark: from starting ``mibao`` to its login window. Prints one JSON object.

    .venv/bin/python bench/bench_start.py --data-dir DIR [--runs 5] [--command mibao]

Runs the desktop app (offscreen) on the data folder — e.g. one kept by
``bench/bench_scale.py --keep DIR`` — with MIBAO_EXIT_AT_LOGIN set, which makes the app print a
line and leave as soon as the login window is up; the figure is the wall time to that line,
the median of the runs (the first run warms the file cache and is reported on its own). The
window shows before the database is opened; the second figure is when it takes a login.
Target (issue 9): ≤ 1 s. ``--command`` times a built app (installer/) instead of the source.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def once(command: list[str], data_dir: Path) -> tuple[float, float]:
    """(seconds to the login window, seconds until it takes a login: the database open)."""
    env = dict(os.environ, MIBAO_EXIT_AT_LOGIN="1", QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    start = time.perf_counter()
    proc = subprocess.Popen([*command, "--data-dir", str(data_dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, text=True)
    shown = None
    for line in proc.stdout:
        if "MIBAO_LOGIN_SHOWN" in line:
            shown = time.perf_counter() - start
        if "MIBAO_LOGIN_READY" in line and shown is not None:
            ready = time.perf_counter() - start
            proc.wait(timeout=60)
            return shown, ready
    proc.wait(timeout=60)
    raise SystemExit(f"the login window never came up: {proc.stderr.read()[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--command", help="the built app's executable (default: this checkout's mibao)")
    args = parser.parse_args()
    command = [args.command] if args.command else [sys.executable, "-m", "mibao_desktop"]
    database = args.data_dir / "mibao.sqlite"
    first = once(command, args.data_dir)
    times = [once(command, args.data_dir) for _ in range(args.runs)]
    figures = {
        "database_mb": round(database.stat().st_size / 2**20, 1) if database.exists() else None,
        "first_run_s": [round(t, 2) for t in first],
        "start_to_login_s": round(statistics.median(t for t, _ in times), 2),
        "start_to_login_ready_s": round(statistics.median(r for _, r in times), 2),
        "runs_s": [[round(t, 2), round(r, 2)] for t, r in times],
    }
    figures["target_met"] = figures["start_to_login_s"] <= 1.0
    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
