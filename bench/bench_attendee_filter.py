"""Benchmark: a keystroke in the 参训人员 picker's filter at 20,000 staff (issue 15): the register
filtered in memory as one types. Before: a QListWidget of 20,000 items, each hidden or shown at
every keystroke on the UI thread (~150 ms). Now: ``training_dialogs.PeopleModel`` (a list model
of the positions shown, made again per keystroke) in ``people_view`` (a one-column table: rows
of one height, only those on screen drawn). Both in
one process, offscreen, on the same names, the same keystrokes; CPU time of the keystroke and
the event processing it causes. Prints one JSON object.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_attendee_filter.py [--staff 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QListWidget, QListWidgetItem  # noqa: E402

from mibao_desktop.ledgers import samples  # noqa: E402
from mibao_desktop.ui.training_dialogs import PeopleModel, _hay, _person_text, people_view  # noqa: E402

TYPED = ("z", "zw", "zwe", "", "科", "科研", "科研一", "科研一处", "", "RY", "RY-01", "RY-012", "", "l", "li", "lin")


def people_of(n: int) -> list[dict]:
    rng = random.Random(15)
    surnames, given = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
    return [{"id": i, "number": f"RY-{i:05d}", "name": rng.choice(surnames) + "".join(rng.choices(given, k=rng.randint(1, 2))),
             "department": rng.choice(samples.DEPARTMENTS), "grade": rng.choice(("核心", "重要", "一般"))}
            for i in range(1, n + 1)]


def timed(app, fn) -> list[float]:
    cpu = []
    for text in TYPED:
        c0 = time.process_time()
        fn(text)
        app.processEvents()
        cpu.append(time.process_time() - c0)
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--staff", type=int, default=20_000)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv)
    people = people_of(args.staff)
    hay = [_hay(p) for p in people]

    widget = QListWidget()  # before: every item hidden or shown
    for p in people:
        item = QListWidgetItem(_person_text(p))
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Unchecked)
        widget.addItem(item)
    widget.resize(440, 500)
    widget.show()

    def hide(text: str) -> None:
        words = [w.casefold() for w in text.split()]
        for row, h in enumerate(hay):
            widget.item(row).setHidden(not all(w in h for w in words))

    model = PeopleModel()  # now: the dialog's own model and view
    view = people_view(model)
    model.reset(people, hay)
    view.resize(440, 500)
    view.show()
    app.processEvents()
    results = {}
    for _ in range(2):  # interleaved, twice: the machine is shared
        for name, fn in (("list_widget_before", hide), ("model_now", model.set_filter)):
            results.setdefault(name, []).extend(timed(app, fn))

    def ms(x: float) -> float:
        return round(x * 1000, 1)

    print(json.dumps({"staff": args.staff, "keystrokes": len(TYPED) * 2, "load_average": round(os.getloadavg()[0], 1),
                      **{name: {"cpu_ms_p50": ms(statistics.median(v)), "cpu_ms_p95": ms(statistics.quantiles(v, n=20)[18]),
                                "cpu_ms_max": ms(max(v))} for name, v in results.items()}},
                     ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
