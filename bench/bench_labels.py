"""Benchmark: 1,000 level labels on A4 sheets. Prints one JSON object of figures.

    .venv/bin/python bench/bench_labels.py [--labels 1000]

Target (issue 4): 1,000 labels in ≤ 3 s and ≤ 2 MB.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mibao_desktop.printing import labels as L  # noqa: E402
from mibao_desktop.printing.pdf import register_font  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", type=int, default=1000)
    args = parser.parse_args()
    start = time.perf_counter()
    register_font()
    font = time.perf_counter() - start
    contents = [L.LabelContent("涉密计算机", ("绝密", "机密", "秘密")[i % 3],
                               (("设备编号", f"JM-2026-{i:05d}"), ("责任人", "欧阳建国"), ("定密时间", "2023-03-05")),
                               f"JM-2026-{i:05d}", "涉密计算机严禁接入互联网及其他公共信息网络")
                for i in range(args.labels)]
    figures = {"labels": args.labels, "font_load_s": round(font, 3)}
    for name in ("a4-3x8", "roll-60x40"):
        buffer = io.BytesIO()
        start = time.perf_counter()
        L.render_labels(buffer, contents, L.PRESETS[name])
        figures[f"{name}_s"] = round(time.perf_counter() - start, 2)
        figures[f"{name}_mb"] = round(len(buffer.getvalue()) / 2**20, 2)
    figures["targets_met"] = figures["a4-3x8_s"] <= 3 and figures["a4-3x8_mb"] <= 2
    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
