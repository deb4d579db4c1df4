"""The command line over the same core: demo, export, import, errors and exit codes."""

import openpyxl
import pytest

from mibao_desktop.cli import main
from mibao_desktop.db.database import Database
from mibao_desktop.security import Actor
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.services.repository import LedgerQuery


def service_for(path):
    return LedgerService(Database.open(path / "mibao.sqlite"), Actor.local_security_admin())


def test_demo_fills_realistic_data_once(tmp_path, capsys):
    assert main(["--data-dir", str(tmp_path), "demo", "--scale", "0.2"]) == 0
    out = capsys.readouterr().out
    assert "涉密计算机台账:新增 60 条" in out
    svc = service_for(tmp_path)
    assert svc.count("computers") == 59  # one voided as a demo of voiding
    statuses = set(svc.distinct_values("computers", "status"))
    assert {"在用", "维修"} <= statuses
    assert main(["--data-dir", str(tmp_path), "demo", "--if-empty"]) == 0
    assert "未添加演示数据" in capsys.readouterr().out
    assert svc.count("computers") == 59


def test_data_dir_from_the_environment(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MIBAO_DATA_DIR", str(tmp_path / "env"))
    assert main(["demo", "--scale", "0.05"]) == 0
    assert (tmp_path / "env" / "mibao.sqlite").exists()


def test_export_and_import_round_trip(tmp_path, capsys):
    src, dst = tmp_path / "a", tmp_path / "b"
    main(["--data-dir", str(src), "demo", "--scale", "0.2"])
    out = tmp_path / "计算机.xlsx"
    assert main(["--data-dir", str(src), "export", "涉密计算机", str(out)]) == 0
    assert f"exported 59 records to {out}" in capsys.readouterr().out
    assert openpyxl.load_workbook(out).active.max_row == 59 + 2
    assert main(["--data-dir", str(dst), "import", "computers", str(out)]) == 0
    assert "imported 59, refused 0" in capsys.readouterr().out
    a = [dict(r.values, status=None) for r in service_for(src).query("computers", LedgerQuery(limit=None)).rows]
    b = [dict(r.values, status=None) for r in service_for(dst).query("computers", LedgerQuery(limit=None)).rows]
    assert a == b
    # the same file again: every row is refused as a duplicate, with its row number
    assert main(["--data-dir", str(dst), "import", "computers", str(out)]) == 1
    out_text = capsys.readouterr().out
    assert "第 3 行 [设备编号]" in out_text and "imported 0, refused 59" in out_text


def test_search_filters_the_export(tmp_path, capsys):
    main(["--data-dir", str(tmp_path), "demo", "--scale", "0.2"])
    out = tmp_path / "x.xlsx"
    assert main(["--data-dir", str(tmp_path), "export", "media", str(out), "--search", "光盘"]) == 0
    rows = list(openpyxl.load_workbook(out).active.iter_rows(min_row=3, values_only=True))
    assert rows and all(r[1] == "光盘" for r in rows)


@pytest.mark.parametrize("args,message", [
    (["import", "computers", "missing.xlsx"], "找不到文件"),
    (["import", "computers", "{fake}"], "不是有效的 Excel"),
    (["import", "printers", "x.xlsx"], "没有名为“printers”的台账"),
])
def test_errors_exit_2_with_a_clear_message(tmp_path, capsys, args, message):
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a workbook")
    args = [a.replace("{fake}", str(fake)) for a in args]
    assert main(["--data-dir", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err
