"""mibao due [--as-of YYYY-MM-DD] (issue 15 item 4): the first screen's list, one item a line, as
seen on that date, for the role logged in."""

from __future__ import annotations

import datetime as dt

import pytest

from mibao_desktop.cli import main
from tests.test_cli import as_user, demo

pytestmark = pytest.mark.sqlite_only  # the command line on a --data-dir (its SQLite file)


def lines(out: str) -> list[list[str]]:
    return [line.split("\t") for line in out.splitlines()[1:] if "\t" in line]


def test_mibao_due_prints_the_list_as_seen_on_a_date(tmp_path, capsys, monkeypatch):
    passwords = demo(tmp_path, capsys)
    monkeypatch.setenv("MIBAO_DATA_DIR", str(tmp_path))
    assert as_user(monkeypatch, passwords, "baomi", "due") == 0
    out = capsys.readouterr().out
    today = dt.date.today()
    assert out.splitlines()[0].startswith(f"截至 {today.isoformat()}:已逾期 ")
    rows = lines(out)
    assert rows and all(len(r) == 7 and r[6].startswith("办理:") for r in rows)
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)  # the most urgent first
    assert {r[0] for r in rows} <= {"已逾期", "7 日内", "30 日内"}
    # the demo's trip back 15 days ago without its report: overdue, by its number
    assert any(r[3] == "人员" and r[4] == "CJ-0002" and "尚未回国报告" in r[5] for r in rows)

    # seen 40 days ahead: what was within 30 days is overdue, the days counted from that date
    ahead = today + dt.timedelta(days=40)
    assert as_user(monkeypatch, passwords, "baomi", "due", "--as-of", ahead.isoformat()) == 0
    later = capsys.readouterr().out
    assert later.splitlines()[0].startswith(f"截至 {ahead.isoformat()}")
    trip = next(r for r in lines(later) if r[4] == "CJ-0002" and "尚未回国报告" in r[5])
    assert trip[0] == "已逾期" and trip[2] == f"逾期 {(ahead - dt.date.fromisoformat(trip[1])).days} 天"

    # the auditor sees the audit log's verification, not the ledgers
    assert as_user(monkeypatch, passwords, "shenji", "due") == 0
    audit = capsys.readouterr().out
    assert not any(r[3] in ("人员", "载体", "设备和介质") for r in lines(audit))

    # a date that is no date is refused in Chinese
    with pytest.raises(SystemExit):
        main(["--user", "baomi", "due", "--as-of", "2026-13-01"])
    assert "无法识别" in capsys.readouterr().err
