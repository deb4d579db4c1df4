"""Import keeps what the unit wrote (issue 10): columns spread over two, two-row headers, merged
cells, status, struck-through and 合计 rows, the file's own row numbers, the refused-rows file,
the command line's exit codes, and the round trip of every ledger through export and import."""

import datetime as dt

import openpyxl
import pytest
from openpyxl.styles import Font

from mibao_desktop.excel import export_ledger, import_ledger
from mibao_desktop.excel.importer import REASON_HEADER, plan_import, run_import, write_refused
from mibao_desktop.ledgers import LEDGERS, REGISTRY
from mibao_desktop.services.repository import LedgerQuery

COMPUTERS = LEDGERS["computers"]
BASE = ["设备编号", "品牌型号", "密级", "定密日期", "使用人", "责任人", "所在部门", "硬盘序号"]


def row(n, **over):
    values = {"设备编号": f"JM-{n:02d}", "品牌型号": "联想", "密级": "机密", "定密日期": "2019-03-05",
              "使用人": "张伟", "责任人": "张伟", "所在部门": "保密办", "硬盘序号": f"D{n}"}
    values.update(over)
    return values


def save(path, rows, *, before=(), merges=(), struck=()):
    wb = openpyxl.Workbook()
    ws = wb.active
    for line in before:
        ws.append(line)
    for line in rows:
        ws.append(line)
    for cells in merges:
        ws.merge_cells(cells)
    for number in struck:
        for cell in ws[number]:
            cell.font = Font(strike=True)
    wb.save(path)
    return path


def test_a_mac_spread_over_two_columns_and_two_remarks_are_gathered(service, tmp_path):
    header = BASE + ["MAC1", "MAC2", "备注", "备注"]
    path = save(tmp_path / "a.xlsx", [header,
                                     [*row(1).values(), "00-1A-2B-3C-4D-01", "00-1A-2B-3C-4D-02", "三楼", "已贴标"],
                                     [*row(2).values(), "00-1A-2B-3C-4D-03", None, None, "借用中"]])
    report = import_ledger(service, COMPUTERS, path)
    assert (report.created, report.refused) == (2, [])
    first = service.find("computers", "JM-01").values
    assert first["mac_addresses"] == ["00-1A-2B-3C-4D-01", "00-1A-2B-3C-4D-02"]
    assert first["remarks"] == "三楼\n已贴标"
    assert service.find("computers", "JM-02").values["remarks"] == "借用中"


def test_a_mac_header_merged_over_two_columns(service, tmp_path):
    path = save(tmp_path / "a.xlsx", [BASE + ["MAC地址", None],
                                     [*row(1).values(), "00-1A-2B-3C-4D-01", "00-1A-2B-3C-4D-02"]],
                merges=["I1:J1"])
    report = import_ledger(service, COMPUTERS, path)
    assert (report.created, report.refused) == (1, [])
    assert service.find("computers", "JM-01").values["mac_addresses"] == ["00-1A-2B-3C-4D-01", "00-1A-2B-3C-4D-02"]


def test_a_two_row_header_main_over_sub(service, tmp_path):
    top = ["设备编号", "设备信息", None, "密级", "定密日期", "人员", None, "所在部门", "硬盘序号", "网络信息"]
    sub = [None, "品牌型号", "序列号", None, None, "使用人", "责任人", None, None, "MAC地址"]
    data = ["JM-01", "联想", "SN-1", "机密", "2019-03-05", "张伟", "李娜", "保密办", "D1", "00-1A-2B-3C-4D-01"]
    path = save(tmp_path / "a.xlsx", [top, sub, data], before=[["2024年涉密计算机台账"]],
                merges=["A2:A3", "B2:C2", "D2:D3", "E2:E3", "F2:G2", "H2:H3", "I2:I3"])
    plan = plan_import(COMPUTERS, path)
    assert plan.header_number == 3 and plan.headers[1] == "设备信息/品牌型号"
    report = run_import(service, plan)
    assert (report.created, report.refused) == (1, [])
    values = service.find("computers", "JM-01").values
    assert (values["serial_number"], values["user"].text, values["responsible_person"].text) == ("SN-1", "张伟", "李娜")


def test_a_department_merged_down_fills_each_row_and_the_preview_says_so(service, tmp_path):
    header = BASE + ["MAC地址"]
    rows = [header] + [[*row(n, 所在部门="科研一处" if n == 1 else None).values(), f"00-1A-2B-3C-4D-0{n}"]
                       for n in (1, 2, 3)]
    path = save(tmp_path / "a.xlsx", rows, merges=["G2:G4"])
    preview = run_import(service, plan_import(COMPUTERS, path), dry_run=True)
    assert preview.accepted == 3 and preview.refused == []
    assert any("第 2–4 行" in n.message and n.column == "所在部门" for n in preview.notes)
    import_ledger(service, COMPUTERS, path)
    assert {r.values["department"] for r in service.query("computers", LedgerQuery()).rows} == {"科研一处"}


def test_status_and_period_from_the_file_are_kept(service, tmp_path):
    header = BASE + ["MAC地址", "状态"]
    path = save(tmp_path / "a.xlsx", [
        header,
        [*row(1, 密级="机密★10年").values(), "00-1A-2B-3C-4D-01", "维修"],
        [*row(2).values(), "00-1A-2B-3C-4D-02", "已销毁"],
        [*row(3).values(), "00-1A-2B-3C-4D-03", ""],
        [*row(4).values(), "00-1A-2B-3C-4D-04", "坏了"],
    ])
    report = import_ledger(service, COMPUTERS, path)
    assert report.created == 3
    assert [(r.row, r.column) for r in report.refused] == [(5, "状态")]
    assert "坏了" in report.refused[0].message
    repaired = service.find("computers", "JM-01")
    assert (repaired.status, repaired.values["level"]) == ("维修", "机密")
    assert repaired.display("secrecy_period") == "10年" if COMPUTERS.has_field("secrecy_period") else True
    assert service.find("computers", "JM-02").status == "已销毁"
    assert service.find("computers", "JM-03").status == "在用"
    history = service.history(repaired.id)
    assert any("状态 维修" in (h.reason or "") for h in history)


def test_struck_through_and_total_rows_are_left_out_only_when_the_user_agrees(service, tmp_path):
    header = BASE + ["MAC地址"]
    path = save(tmp_path / "a.xlsx", [
        header,
        [*row(1).values(), "00-1A-2B-3C-4D-01"],
        [*row(2).values(), "00-1A-2B-3C-4D-02"],  # struck through: deleted by hand
        [None, "合计", None, None, None, None, None, None, None],
    ], struck=[3])
    plan = plan_import(COMPUTERS, path)
    assert plan.flagged == {3: "整行有删除线(手工台账中通常表示已删除)", 4: "是小计/合计行,不是一条记录"}
    preview = run_import(service, plan, dry_run=True)
    assert [r.row for r in preview.left_out] == [3, 4] and preview.accepted == 1
    plan.include_flagged = True
    agreed = run_import(service, plan, dry_run=True)
    assert agreed.accepted == 2 and agreed.left_out == []  # the 合计 line is no record: refused or skipped
    assert 4 in agreed.skipped_rows or 4 in {r.row for r in agreed.refused}


def test_every_problem_in_one_pass_with_the_files_row_numbers(service, tmp_path):
    from tests.conftest import computer

    service.create("computers", computer(asset_number="JM-99", serial_number="E", disk_serials="E",
                                         mac_addresses="EE-00-00-00-00-01"))
    header = BASE + ["MAC地址"]
    path = save(tmp_path / "a.xlsx", [
        header,
        [*row(1).values(), "00-1A-2B-3C-4D-01"],
        [*row(1, 硬盘序号="D9", 定密日期="下周").values(), "00-1A-2B-3C-4D-09"],  # a duplicate AND a bad date
        [*row(99, 硬盘序号="D8", 密级="绝密级").values(), "00-1A-2B-3C-4D"],  # clashes with the database AND a bad MAC
    ], before=[["涉密计算机台账"], ["填报单位:某研究所"]])
    report = run_import(service, plan_import(COMPUTERS, path), dry_run=True)
    found = {(r.row, r.column): r.message for r in report.refused}
    assert found[(5, "设备编号")] == "与第 4 行重复"
    assert "日期" in found[(5, "定密日期")]
    assert "JM-99" in found[(6, "设备编号")] and "MAC" in found[(6, "MAC地址")]
    assert report.accepted == 1 and [r[0] for r in report.rows] == [4]


def test_the_refused_file_keeps_the_title_rows_and_one_reason_column_each_round(service, tmp_path):
    header = BASE + ["MAC地址"]
    path = save(tmp_path / "a.xlsx", [
        header,
        [*row(1).values(), "00-1A-2B-3C-4D-01"],
        [*row(2).values(), "00-1A-2B-3C-4D"],
    ], before=[["2024年度涉密计算机台账"], ["填报单位:某研究所", None, "填报日期:2025年1月"]])
    plan = plan_import(COMPUTERS, path)
    first = run_import(service, plan)
    fix = tmp_path / "未导入.xlsx"
    assert write_refused(plan, first, fix) == 1
    rows = list(openpyxl.load_workbook(fix).active.iter_rows(values_only=True))
    assert rows[0][0] == "2024年度涉密计算机台账" and rows[1][2] == "填报日期:2025年1月"
    assert list(rows[2]) == header + [REASON_HEADER]
    assert rows[3][0] == "JM-02" and rows[3][-1].startswith("第 5 行:")
    # round 2: still wrong; the reason column is replaced, not added to
    plan2 = plan_import(COMPUTERS, fix)
    assert REASON_HEADER not in [plan2.label_of(n) for n in plan2.mapping.values()]
    second = run_import(service, plan2)
    again = tmp_path / "未导入2.xlsx"
    write_refused(plan2, second, again)
    rows2 = list(openpyxl.load_workbook(again).active.iter_rows(values_only=True))
    assert list(rows2[2]).count(REASON_HEADER) == 1 and len(rows2[2]) == len(header) + 1
    assert rows2[3][-1].startswith("第 4 行:")


def test_other_sheets_that_look_like_the_ledger_are_named(service, tmp_path):
    wb = openpyxl.Workbook()
    first = wb.active
    first.title = "2024年"
    first.append(BASE + ["MAC地址"])
    first.append([*row(1).values(), "00-1A-2B-3C-4D-01"])
    first.append([*row(2).values(), "00-1A-2B-3C-4D-02"])
    older = wb.create_sheet("2023年")
    older.append(BASE + ["MAC地址"])
    older.append([*row(3).values(), "00-1A-2B-3C-4D-03"])
    older.sheet_state = "hidden"
    wb.create_sheet("说明").append(["本表由保密办填写"])
    wb.save(tmp_path / "a.xlsx")
    report = import_ledger(service, COMPUTERS, tmp_path / "a.xlsx")
    assert report.sheet == "2024年" and report.other_sheets == ["2023年(隐藏)"]
    assert import_ledger(service, COMPUTERS, tmp_path / "a.xlsx", sheet="2023年").created == 1


def test_the_command_line_exit_codes_and_no_traceback(service, tmp_path, capsys, monkeypatch):
    from mibao_desktop import cli

    header = BASE + ["MAC地址"]
    good = save(tmp_path / "good.xlsx", [header, [*row(1).values(), "00-1A-2B-3C-4D-01"]])
    bad = save(tmp_path / "bad.xlsx", [header, [*row(2).values(), "00-1A-2B-3C-4D"]])
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")

    monkeypatch.setattr(cli, "_login", lambda db, args: service.actor)
    monkeypatch.setattr(cli, "_ledger_service", lambda db, actor: service)
    monkeypatch.setattr("mibao_desktop.storage.startup.open_database", lambda *a, **k: service.db)
    assert cli.main(["--data-dir", str(tmp_path), "--user", "baomi", "import", "computers", str(good)]) == 0
    refused = tmp_path / "refused.xlsx"
    assert cli.main(["--data-dir", str(tmp_path), "--user", "baomi", "import", "computers", str(bad),
                     "--refused", str(refused)]) == 1
    assert refused.exists()
    assert cli.main(["--data-dir", str(tmp_path), "--user", "baomi", "import", "computers", str(broken)]) == 2

    def explode(*a, **k):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr("mibao_desktop.excel.importer.read_sheets", explode)
    assert cli.main(["--data-dir", str(tmp_path), "--user", "baomi", "import", "computers", str(good)]) == 2
    out = capsys.readouterr()
    assert "Traceback" not in out.err + out.out and "内部错误 ZeroDivisionError" in out.err
    assert "ZeroDivisionError" in (tmp_path / "logs" / "mibao-errors.log").read_text(encoding="utf-8")


def _referenced_first():
    from mibao_desktop.demo import _referenced_first as order

    return order()


def _sheet_rows(path):
    ws = openpyxl.load_workbook(path).active
    return [tuple(r) for r in ws.iter_rows(min_row=3, values_only=True)]  # past the marking and title rows


def test_every_ledger_round_trips_through_export_and_import(tmp_path, db_target, empty_db_target):
    """Export every ledger of the demo, import the files into an empty database in an order where
    referenced records come first, export again: the same rows, status and references."""
    from mibao_desktop.db.database import Database
    from mibao_desktop.demo import fill_demo
    from mibao_desktop.security import Actor
    from mibao_desktop.services.ledger_service import LedgerService

    actor = Actor.local_security_admin()
    source = LedgerService(Database.open(db_target), actor)
    fill_demo(source, scale=0.05)
    target_db = Database.open(empty_db_target)
    target = LedgerService(target_db, actor)
    exported = {}
    for ledger in REGISTRY:
        exported[ledger.key] = tmp_path / f"{ledger.key}.xlsx"
        export_ledger(source, ledger, exported[ledger.key], marking="机密")
    statuses = set()
    for ledger in _referenced_first():
        report = import_ledger(target, ledger, exported[ledger.key])
        assert report.refused == [], (ledger.key, report.refused[:3])
        statuses |= {r.status for r in target.query(ledger, LedgerQuery(limit=10_000)).rows}
    assert {"报废", "已销毁"} & statuses  # the demo retires and destroys some records
    for ledger in REGISTRY:
        again = tmp_path / f"{ledger.key}-again.xlsx"
        export_ledger(target, ledger, again, marking="机密")
        assert _sheet_rows(again) == _sheet_rows(exported[ledger.key]), ledger.key
    target_db.close()
    source.db.close()


def test_a_header_repeated_down_the_sheet_is_skipped_with_a_note(service, tmp_path):
    header = BASE + ["MAC地址"]
    path = save(tmp_path / "a.xlsx", [header, [*row(1).values(), "00-1A-2B-3C-4D-01"], header,
                                     [*row(2).values(), "00-1A-2B-3C-4D-02"]])
    report = import_ledger(service, COMPUTERS, path)
    assert (report.created, report.refused, report.skipped_rows) == (2, [], [3])
    assert any("第 3 行重复了表头" in n.message for n in report.notes)


# -- hostile files, end to end through the importer (builders in tests/spreadsheets.py) -------------

from tests import spreadsheets  # noqa: E402

HEADER9 = BASE + ["MAC地址", "备注"]


def _rows9(*extra):
    return [[*row(n).values(), f"00-1A-2B-3C-4D-0{n}", f"第{n}台"] for n in (1, 2)] + list(extra)


@pytest.mark.parametrize("kind", ["xls", "ods", "csv-semicolon", "txt-utf16-tab", "csv-gb18030"])
def test_every_format_a_unit_has_imports_whole(service, tmp_path, kind):
    rows = [HEADER9, *_rows9()]
    if kind == "xls":
        path = spreadsheets.xls(tmp_path / "a.xls", rows)
    elif kind == "ods":
        path = spreadsheets.ods(tmp_path / "a.ods", [("台账", rows, False)])
    elif kind == "csv-semicolon":
        path = spreadsheets.text_table(tmp_path / "a.csv", rows, delimiter=";")
    elif kind == "txt-utf16-tab":
        path = spreadsheets.text_table(tmp_path / "a.txt", rows, encoding="utf-16-le", delimiter="\t", bom=True)
    else:
        path = spreadsheets.text_table(tmp_path / "a.csv", rows, encoding="gb18030")
    report = import_ledger(service, COMPUTERS, path)
    assert (report.created, report.refused) == (2, [])
    assert service.find("computers", "JM-02").values["remarks"] == "第2台"


def test_text_is_kept_as_typed_and_identifiers_are_cleaned(service, tmp_path):
    path = save(tmp_path / "a.xlsx", [
        HEADER9,
        [*row(1, 品牌型号="联想 Ⅱ型").values(), "00-1A-2B-3C-4D-01", "②号柜 15㎡ 室温25℃"],
        [*row(2, 设备编号="JM-01\u200b").values(), "00-1A-2B-3C-4D-02", "零宽空格"],
        [*row(3, 设备编号="ＪＭ－０３").values(), "00-1A-2B-3C-4D-03", "全角编号_x000D_换行"],
    ])
    report = import_ledger(service, COMPUTERS, path)
    first = service.find("computers", "JM-01").values
    assert (first["brand_model"], first["remarks"]) == ("联想 Ⅱ型", "②号柜 15㎡ 室温25℃")
    assert [(r.row, r.column) for r in report.refused] == [(3, "设备编号")]  # JM-01 once its invisible space is gone
    assert "第 2 行" in report.refused[0].message
    assert any("不可见字符" in n.message and n.row == 3 for n in report.notes)
    assert service.find("computers", "JM-03") is not None


def test_numbers_shown_with_leading_zeros_and_yyyymmdd_dates(service, tmp_path):
    path = spreadsheets.xlsx(tmp_path / "a.xlsx", [
        HEADER9,
        [12, "联想", "机密", 20190305, "张伟", "张伟", "保密办", "D1", "00-1A-2B-3C-4D-01", None],
    ], formats={"A2": "000000"})
    report = import_ledger(service, COMPUTERS, path)
    assert (report.created, report.refused) == (1, [])
    stored = service.find("computers", "000012")
    assert stored.values["classified_on"] == dt.date(2019, 3, 5)


@pytest.mark.parametrize("maker,name", [(spreadsheets.encrypted_xlsx, "secret.xlsx"),
                                        (spreadsheets.encrypted_xls, "secret.xls")])
def test_encrypted_workbooks_are_refused_in_plain_words(service, tmp_path, maker, name):
    from mibao_desktop.excel import SpreadsheetError

    path = maker(tmp_path / name)
    with pytest.raises(SpreadsheetError, match="文件有密码保护,请先在 Excel/WPS 中去掉密码"):
        import_ledger(service, COMPUTERS, path)


def test_error_cells_refuse_their_row(service, tmp_path):
    path = save(tmp_path / "a.xlsx", [HEADER9, *_rows9([*row(3, 品牌型号="#N/A").values(), "00-1A-2B-3C-4D-03", None])])
    report = import_ledger(service, COMPUTERS, path)
    assert report.created == 2
    assert [(r.row, r.column) for r in report.refused] == [(4, "品牌型号")] and "#N/A" in report.refused[0].message


def test_a_header_not_in_the_first_rows_is_explained(service, tmp_path):
    from mibao_desktop.excel import SpreadsheetError

    path = save(tmp_path / "a.xlsx", [HEADER9, *_rows9()], before=[[f"说明第{n}行"] for n in range(25)])
    with pytest.raises(SpreadsheetError, match="前 20 行中找不到涉密计算机台账的表头"):
        import_ledger(service, COMPUTERS, path)


def test_long_numbers_stored_as_numbers_and_periods_a_ledger_does_not_keep_are_explained(service, tmp_path):
    path = save(tmp_path / "a.xlsx", [
        HEADER9 + ["机器序列号"],
        [*row(1, 密级="机密★10年").values(), "00-1A-2B-3C-4D-01", None, 123456789012345678],
        [*row(2).values(), "00-1A-2B-3C-4D-02", None, 2023001.0],
    ])
    report = run_import(service, plan_import(COMPUTERS, path), dry_run=True)
    assert [(r.row, r.column) for r in report.refused] == [(2, "机器序列号")]
    assert "超过 15 位" in report.refused[0].message and "文本" in report.refused[0].message
    assert report.rows[0][0] == 3 and "2023001" in report.rows[0][1]
    plain = save(tmp_path / "b.xlsx", [HEADER9, [*row(1, 密级="机密★10年").values(), "00-1A-2B-3C-4D-01", None]])
    notes = run_import(service, plan_import(COMPUTERS, plain), dry_run=True).notes
    assert any("不记保密期限" in n.message and "10年" in n.message for n in notes)


@pytest.mark.sqlite_only
def test_a_large_first_import_rebuilds_the_indexes_and_search_and_a_cancel_keeps_them(service, monkeypatch):
    """A load into a near-empty ledger sets its indexes aside and builds them (and the FTS index)
    again at the end, inside the import's transaction: afterwards every index is there and search
    finds the rows; a load cancelled after the indexes were set aside leaves them as they were."""
    from sqlalchemy import text

    from mibao_desktop.demo import computer_rows
    from mibao_desktop.errors import Cancelled
    from mibao_desktop.services.repository import RecordRepository

    monkeypatch.setattr(RecordRepository, "BULK_MIN", 20)
    loads = []
    real_bulk_load = RecordRepository._bulk_load

    def spy(self, ledger, count):
        loads.append(real_bulk_load(self, ledger, count))
        return loads[-1]

    monkeypatch.setattr(RecordRepository, "_bulk_load", spy)

    def indexes():
        with service.db.engine.connect() as conn:
            return sorted(r[0] for r in conn.execute(text(
                "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='ledger_computers' AND sql IS NOT NULL")))

    before = indexes()
    assert len(before) > 5
    calls = {"n": 0}

    def cancel_late():  # past the checks, while the rows are being stored
        calls["n"] += 1
        return calls["n"] > 3

    rows = list(computer_rows(40))
    with pytest.raises(Cancelled):
        service.create_many("computers", rows[:30], cancelled=cancel_late)
    # cancelled after the indexes were set aside (the new people's and the computers'): the
    # rollback brings them back
    assert loads and all(loads)
    loads.clear()
    assert indexes() == before and service.count("computers") == 0
    result = service.create_many("computers", rows)
    assert len(result.created) == 40 and indexes() == before
    number = rows[7]["asset_number"]
    assert [r.asset_number for r in service.query("computers", LedgerQuery(text=number[-6:])).rows] == [number]
    assert loads and all(loads)
    with service.db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"


def test_a_refused_rows_file_that_cannot_be_written_is_told_without_a_traceback(service, tmp_path, capsys,
                                                                                  monkeypatch):
    """--refused (or an export) to a folder that cannot hold the file: one plain sentence and exit
    2. openpyxl's write-only sheet had its rows half written when the temporary file could not
    be made, and its generators, collected later, printed two lxml tracebacks ("Exception
    ignored in ... LxmlSyntaxError") after the message; the errno's English text was in it."""
    import gc
    import sys

    from mibao_desktop import cli

    header = BASE + ["MAC地址"]
    bad = save(tmp_path / "bad.xlsx", [header, [*row(2).values(), "00-1A-2B-3C-4D"]])
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("x")
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    monkeypatch.setattr(cli, "_login", lambda db, args: service.actor)
    monkeypatch.setattr(cli, "_ledger_service", lambda db, actor: service)
    monkeypatch.setattr("mibao_desktop.storage.startup.open_database", lambda *a, **k: service.db)
    a_folder = tmp_path / "未导入的行.xlsx"  # a folder of that name
    a_folder.mkdir()
    for target in (not_a_folder / "未导入.xlsx", a_folder):
        assert cli.main(["--data-dir", str(tmp_path), "--user", "baomi", "import", "computers", str(bad),
                         "--refused", str(target)]) == 2
        gc.collect()
        assert unraisable == []
        err = capsys.readouterr().err
        assert "Traceback" not in err and "文件未写入" in err
        assert not any(word in err for word in ("File exists", "Not a directory", "Is a directory", "No such file"))



def test_a_file_the_command_line_writes_must_be_named_for_what_it_is_before_anything_runs(service, tmp_path, capsys,
                                                                                          monkeypatch):
    """mibao export … out.csv wrote an Excel workbook under a .csv name (Excel then shows garbage),
    and --refused out.csv was found wrong only after the import had run. Each is refused first,
    in a sentence naming the name to use; nothing is imported."""
    from mibao_desktop import cli

    header = BASE + ["MAC地址"]
    bad = save(tmp_path / "bad.xlsx", [header, [*row(2).values(), "00-1A-2B-3C-4D"], [*row(3).values(), "坏"]])
    monkeypatch.setattr(cli, "_login", lambda db, args: service.actor)
    monkeypatch.setattr(cli, "_ledger_service", lambda db, actor: service)
    monkeypatch.setattr("mibao_desktop.storage.startup.open_database", lambda *a, **k: service.db)
    base = ["--data-dir", str(tmp_path), "--user", "baomi"]
    for args, name in ((["import", "computers", str(bad), "--refused", str(tmp_path / "未导入.csv")], "未导入.xlsx"),
                       (["export", "computers", str(tmp_path / "台账.csv")], "台账.xlsx"),
                       (["labels", "computers", "-o", str(tmp_path / "标识.png")], "标识.pdf")):
        assert cli.main(base + args) == 2
        err = capsys.readouterr().err
        assert f"如“{name}”" in err and "Traceback" not in err, err
    assert service.count("computers") == 0 and not list(tmp_path.glob("*.csv")) and not list(tmp_path.glob("*.png"))

def test_the_command_line_says_when_the_sheet_it_takes_is_hidden(service, tmp_path, capsys, monkeypatch):
    """A workbook whose only ledger sheet is hidden (a cover sheet in front): the command line
    takes it, and says it is hidden, as the wizard's list of sheets does (it named the sheet only)."""
    from mibao_desktop import cli

    wb = openpyxl.Workbook()
    wb.active.title = "封面"
    wb.active.append(["某单位保密台账汇编"])
    kept = wb.create_sheet("计算机")
    kept.append(BASE + ["MAC地址"])
    kept.append([*row(1).values(), "00-1A-2B-3C-4D-01"])
    kept.sheet_state = "hidden"
    wb.save(tmp_path / "a.xlsx")
    monkeypatch.setattr(cli, "_login", lambda db, args: service.actor)
    monkeypatch.setattr(cli, "_ledger_service", lambda db, actor: service)
    monkeypatch.setattr("mibao_desktop.storage.startup.open_database", lambda *a, **k: service.db)
    assert cli.main(["--data-dir", str(tmp_path), "--user", "baomi", "import", "computers", str(tmp_path / "a.xlsx"),
                     "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith("工作表“计算机”(隐藏),表头在第 1 行")


def test_a_column_the_app_works_out_itself_is_not_said_to_have_no_field(service, tmp_path, capsys, monkeypatch):
    """A carrier ledger exported by 密保 and imported again: its 解密时间 column is worked out from
    定密时间 and 保密期限, never read from a file. The command line said of it "没有对应的字段;如需
    导入,请在导入向导中指定对应的列", though the wizard offers no such choice."""
    from mibao_desktop import cli

    service.create("carriers", dict(carrier_number="ZT-5", title="会议纪要", level="机密", secrecy_period="10年",
                                    classified_on="2026-01-05", copies=1, keeper="李娜", department="保密办"))
    exported = tmp_path / "载体.xlsx"
    export_ledger(service, LEDGERS["carriers"], exported)
    monkeypatch.setattr(cli, "_login", lambda db, args: service.actor)
    monkeypatch.setattr(cli, "_ledger_service", lambda db, actor: service)
    monkeypatch.setattr("mibao_desktop.storage.startup.open_database", lambda *a, **k: service.db)
    cli.main(["--data-dir", str(tmp_path), "--user", "baomi", "import", "carriers", str(exported), "--dry-run"])
    out = capsys.readouterr().out
    assert "未导入的列:序号(没有对应的字段;如需导入,请在导入向导中指定对应的列)" in out
    assert "未导入的列:解密时间(由密保根据其他各列算出或在登记操作时记下,不从文件读取)" in out
