"""Benchmark: the BUILT app (scripts/package's dist/mibao/mibao) from its start to the login
window (issue 17 item 3: ≤ 1 s). Prints one JSON object.

    .venv/bin/python bench/bench_start_built.py [--app dist/mibao/mibao] [--data-dir DIR] [--runs 5]

Without ``--data-dir`` the built app fills a new data folder with its own ``demo`` first (the
demo ledgers: ~1,000 records). Then it is timed as bench/bench_start.py times the source
checkout: offscreen, with MIBAO_EXIT_AT_LOGIN set, the median of the runs after a first one
that warms the file cache (reported on its own: the start right after installing is closer to
that one). The start of a one-folder PyInstaller build adds the loading of its ~140 shared
libraries to what the source start does.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_start import once  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--app", type=Path, default=ROOT / "dist" / "mibao" / "mibao")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not args.app.is_file():
        raise SystemExit(f"no built app at {args.app}: run scripts/package first")
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = args.data_dir
        if data_dir is None:
            data_dir = Path(scratch) / "data"
            subprocess.run([str(args.app), "--data-dir", str(data_dir), "demo"], check=True, capture_output=True)
        command = [str(args.app)]
        first = once(command, data_dir)
        times = [once(command, data_dir) for _ in range(args.runs)]
    figures = {
        "app": str(args.app),
        "first_run_s": [round(t, 2) for t in first],
        "start_to_login_s": round(statistics.median(t for t, _ in times), 2),
        "start_to_login_ready_s": round(statistics.median(r for _, r in times), 2),
        "runs_s": [[round(t, 2), round(r, 2)] for t, r in times],
    }
    figures["target_met"] = figures["start_to_login_s"] <= 1.0
    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
