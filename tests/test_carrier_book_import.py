"""Import of a hand-kept carrier book (issue 13 item 7): one row per document with its 份数 and
a 份号 range or list, or one row per copy with the document's number repeated. Every workbook
is written by openpyxl as units keep them, imported through the real importer and service into
a real database file, and the carriers and their copies are read back."""

from __future__ import annotations

import datetime as dt

import pytest

from mibao_desktop.excel.copy_numbers import CopyNumberError, parse, spans
from mibao_desktop.excel.importer import FROM, Fill, plan_import, run_import
from mibao_desktop.ledgers import LEDGERS
from mibao_desktop.services.repository import LedgerQuery

from tests.test_review_import import save  # noqa: E402  (a sheet written row by row)

CARRIERS = LEDGERS["carriers"]
BOOK_HEADER = ["序号", "登记编号", "文件标题", "文号", "密级", "份数", "份号", "保管人", "持有人", "备注"]


def book(path, rows, header=BOOK_HEADER):
    return save(path, [["国家秘密载体登记簿"], ["填表单位:保密办"], header, *rows])


def copies_of(service, number):
    carrier = service.find("carriers", number)
    assert carrier is not None, number
    return carrier, [(c.number, c.display("holder"), c.status) for c in service.children(carrier.id)]


# -- the cell itself -----------------------------------------------------------------------------

@pytest.mark.parametrize("cell, numbers", [
    (3, [3]), (3.0, [3]), ("1-5", [1, 2, 3, 4, 5]), ("1、3、7", [1, 3, 7]), ("1,3,7", [1, 3, 7]),
    ("1，3，7", [1, 3, 7]), ("第1-5份", [1, 2, 3, 4, 5]), ("1至5", [1, 2, 3, 4, 5]), ("１－５", [1, 2, 3, 4, 5]),
    ("第1份至第3份", [1, 2, 3]), ("第一至三份", [1, 2, 3]), ("1-3、7", [1, 2, 3, 7]), ("第12份", [12]), ("1~2", [1, 2]),
    # typed with spaces around the dash or the words, as a hand-kept book often is
    ("1 - 5", [1, 2, 3, 4, 5]), ("第 1-5 份", [1, 2, 3, 4, 5]), ("1 至 3、7", [1, 2, 3, 7]), ("第 2 份", [2]),
    ("1 3 7", [1, 3, 7]),
])
def test_a_copy_number_cell_is_read_as_the_book_writes_it(cell, numbers):
    assert parse(cell) == numbers


@pytest.mark.parametrize("cell, said", [
    ("5-1", "前大后小"), ("1、3、3", "份号 3 写了两次"), ("共5份", "不是份号"), ("0", "不在 1 到"),
    ("1--", "不是份号"), (dt.datetime(2024, 1, 5), "自动改成日期"), (2.5, "份号是整数"),
])
def test_a_malformed_copy_number_is_refused_saying_why(cell, said):
    with pytest.raises(CopyNumberError, match=said):
        parse(cell)


def test_copy_numbers_are_shown_as_spans():
    assert spans([7, 1, 2, 3, 5, 9, 10]) == "1–3、5、7、9、10"


# -- one row per document ------------------------------------------------------------------------

def test_a_row_per_document_with_a_range_or_list_creates_each_copy_under_its_carrier(service, tmp_path):
    path = book(tmp_path / "登记簿.xlsx", [
        [1, "ZT-2024-001", "关于加强保密管理的通知", "保字〔2024〕3号", "机密★10年", 5, "1-5", "李娜", "李娜", None],
        [2, "ZT-2024-002", "年度科研计划", "科字〔2024〕7号", "秘密", 3, "1、3、7", "王芳", None, None],  # 7 > 3
        [3, "ZT-2024-003", "型号设计图纸", None, "绝密", "3份", "第1-3份", "赵强", "赵强", None],
        [4, "ZT-2024-004", "技术方案评审意见", None, "机密", 4, "1至4", "李娜", None, "见附件"],
        [5, "ZT-2024-005", "保密检查情况通报", None, "秘密", 2, None, "王芳", None, None],  # no 份号: 1–2
    ])
    preview = run_import(service, plan_import(CARRIERS, path), dry_run=True)
    assert service.find("carriers", "ZT-2024-001") is None  # a preview stores nothing
    assert {(r.row, r.column) for r in preview.refused} == {(5, "份号")}
    assert "份号 7 超出份数 3" in preview.refused[0].message
    column = preview.row_labels.index("份号(载体份)")  # how many copies each row gives, in the preview
    assert {number: cells[column] for number, cells in preview.rows} == {
        4: "共 5 份:1–5", 6: "共 3 份:1–3", 7: "共 4 份:1–4", 8: "共 2 份:1、2"}
    assert preview.children == 14 and preview.accepted == 4
    said = {(n.row, n.message) for n in preview.notes}
    assert (4, "本行登记 5 份:第 1–5 份") in said and (8, "份号未填,按份数登记第 1、2 份") in said

    report = run_import(service, plan_import(CARRIERS, path))
    assert (report.created, report.children) == (4, 14)
    carrier, copies = copies_of(service, "ZT-2024-001")
    assert (carrier.values["copies"], carrier.display("level"), carrier.values["secrecy_period"]) == (5, "机密", 10)
    assert copies == [(n, "李娜", "在管") for n in range(1, 6)]
    assert [c[0] for c in copies_of(service, "ZT-2024-003")[1]] == [1, 2, 3]
    assert [c[:2] for c in copies_of(service, "ZT-2024-004")[1]] == [(n, "") for n in range(1, 5)]
    assert service.find("carriers", "ZT-2024-002") is None
    assert service.count("carrier_copies", LedgerQuery()) == 14


def test_a_range_that_disagrees_with_the_份数_and_malformed_cells_are_refused_by_row(service, tmp_path):
    path = book(tmp_path / "登记簿.xlsx", [
        [1, "ZT-1", "通知", None, "机密", 5, "1-3", "李娜", None, None],  # 3 copies listed, 份数 5
        [2, "ZT-2", "计划", None, "秘密", 3, "3-1", "李娜", None, None],  # backwards
        [3, "ZT-3", "图纸", None, "秘密", 2, "共2份", "李娜", None, None],  # a count, not numbers
        [4, "ZT-4", "方案", None, "秘密", 3, "1、2、2", "李娜", None, None],  # 2 twice
        [5, "ZT-5", "意见", None, "秘密", 2, "1,2", "李娜", None, None],  # the one good row
    ])
    report = run_import(service, plan_import(CARRIERS, path))
    assert report.created == 1 and service.find("carriers", "ZT-5") is not None
    by_row = {r.row: str(r) for r in report.refused}
    assert set(by_row) == {4, 5, 6, 7}
    assert by_row[4] == "第 4 行 [份号] 份号“1-3”共 3 份,与份数 5 不符:请改正份号或份数"
    assert "前大后小" in by_row[5] and "不是份号" in by_row[6] and "份号 2 写了两次" in by_row[7]
    assert service.count("carrier_copies", LedgerQuery()) == 2


def test_excel_s_date_made_of_1_5_is_refused_with_the_remedy(service, tmp_path):
    path = book(tmp_path / "登记簿.xlsx", [[1, "ZT-1", "通知", None, "机密", 5, dt.datetime(2024, 1, 5), "李娜", None, None]])
    report = run_import(service, plan_import(CARRIERS, path))
    assert report.created == 0
    assert "设为文本格式" in report.refused[0].message and report.refused[0].row == 4


# -- one row per copy ------------------------------------------------------------------------------

COPY_HEADER = ["登记编号", "标题", "密级", "份数", "保管人", "份号", "持有人", "状态"]


def test_a_row_per_copy_is_grouped_under_one_carrier_with_each_copy_s_holder(service, tmp_path):
    path = book(tmp_path / "分份登记.xlsx", [
        ["ZT-1", "通知", "机密", 3, "李娜", 1, "李娜", "在管"],
        ["ZT-1", "通知", "机密", 3, "李娜", 2, "王芳", "在管"],
        ["ZT-2", "计划", "秘密", 2, "王芳", 1, "赵强", "在管"],
        ["ZT-1", "通知", "机密", 3, "李娜", 3, "赵强", "借出"],  # further down: still ZT-1
        ["ZT-2", "计划", "秘密", 2, "王芳", 2, "王芳", "在管"],
    ], header=COPY_HEADER)
    plan = plan_import(CARRIERS, path)
    assert plan.mapping[COPY_HEADER.index("状态")] == "status"  # the carrier's, unless told: then
    refused = run_import(service, plan, dry_run=True).refused  # copy 3's 借出 is no carrier's status
    assert [(r.row, r.column) for r in refused if "借出" in r.message] == [(7, "状态")]
    plan.set_column(COPY_HEADER.index("状态"), "child:status")  # as the message says: each copy's 状态
    report = run_import(service, plan)
    assert (report.created, report.children, report.refused) == (2, 5, [])
    assert copies_of(service, "ZT-1")[1] == [(1, "李娜", "在管"), (2, "王芳", "在管"), (3, "赵强", "借出")]
    assert copies_of(service, "ZT-2")[1] == [(1, "赵强", "在管"), (2, "王芳", "在管")]


def test_a_row_per_copy_s_problems_are_each_named_by_row(service, tmp_path):
    path = book(tmp_path / "分份登记.xlsx", [
        ["ZT-1", "通知", "机密", 3, "李娜", 1, "李娜", None],
        ["ZT-1", "通知", "机密", 3, "李娜", 1, "王芳", None],  # 份号 1 again
        ["ZT-1", "通知", "机密", 3, "李娜", 3, "赵强", None],
        ["ZT-2", "计划", "秘密", 2, "王芳", 1, "赵强", None],
        ["ZT-2", "计划", "秘密", 2, "王芳", 5, "王芳", None],  # beyond 份数 2
        ["ZT-3", "图纸", "秘密", 3, "王芳", 1, "赵强", None],
        ["ZT-3", "图纸", "秘密", 3, "王芳", 2, "王芳", None],  # 份数 3, two copies listed
        ["ZT-4", "方案", "秘密", 1, "王芳", 1, "赵强", None],
        ["ZT-4", "方案改", "秘密", 1, "王芳", None, None, None],  # a carrier's field differs
        ["ZT-5", "意见", "秘密", 1, "王芳", 1, "赵强", None],  # good
    ], header=COPY_HEADER)
    report = run_import(service, plan_import(CARRIERS, path))
    assert report.created == 1 and service.find("carriers", "ZT-5") is not None
    said = {(r.row, r.column): r.message for r in report.refused}
    assert said[(5, "份号")] == "份号 1 与第 4 行重复:涉密载体 ZT-1 的份号不能重复"
    assert said[(8, "份号")] == "份号 5 超出份数 2:份号应为 1–2"
    assert said[(9, "份数")] == "份数为 3,而第 9–10 行列出的份号共 2 份(1、2):请补齐各份的行,或改正份数"
    assert "与第 11 行是同一涉密载体,但这一列不同(“方案”与“方案改”)" in said[(12, "标题")]
    # the carrier's other rows are named too: nothing of it stored, nothing silently left out
    assert {4, 6, 7, 10, 11} <= {r.row for r in report.refused}
    assert [c.number for c in service.children(service.find("carriers", "ZT-5").id)] == [1]
    assert service.count("carrier_copies", LedgerQuery()) == 1


def test_a_row_per_copy_s_missing_day_starts_its_clock_and_a_day_beside_another_status_is_refused(service, tmp_path):
    """A book listing a copy 下落不明 since a day (issue 10 item 5, as the copies' own register
    does since 797ce29): the day is the copy's 下落不明日期 and its 查找期限 is worked out from the
    carrier's 密级 (机密: 60 days). It was left out as a column with no field (the copy listed as
    未计时), and a day beside 在管 was not looked at; it is refused with the copy's own rule."""
    header = [*COPY_HEADER, "下落不明日期"]
    path = book(tmp_path / "分份登记.xlsx", [
        ["ZT-1", "通知", "机密", 2, "李娜", 1, "李娜", "在管", None],
        ["ZT-1", "通知", "机密", 2, "李娜", 2, "王芳", "下落不明", dt.datetime(2026, 3, 2)],
        ["ZT-2", "计划", "秘密", 1, "王芳", 1, "赵强", "在管", dt.datetime(2026, 3, 2)],
    ], header=header)
    plan = plan_import(CARRIERS, path)
    assert plan.mapping[header.index("下落不明日期")] == "child:missing_since"
    plan.set_column(COPY_HEADER.index("状态"), "child:status")
    report = run_import(service, plan)
    assert (report.created, report.children) == (1, 2)
    assert [(r.row, r.column) for r in report.refused if "下落不明日期" in r.message] == [(6, "下落不明日期")]
    assert "状态为“在管”的载体份不记下落不明日期和查找期限" in report.refused[0].message
    carrier = service.find("carriers", "ZT-1")
    missing = [c.values for c in service.children(carrier.id) if c.status == "下落不明"]
    assert [(v["missing_since"], v["search_until"]) for v in missing] == [(dt.date(2026, 3, 2), dt.date(2026, 5, 1))]


def test_copies_keyed_by_文号_are_grouped_under_one_carrier_numbered_by_it(service, tmp_path):
    header = ["文号", "标题", "密级", "份数", "保管人", "份号", "持有人"]
    path = book(tmp_path / "收文.xlsx", [
        ["保字〔2024〕3号", "通知", "机密", 2, "李娜", 1, "李娜"],
        ["保字〔2024〕3号", "通知", "机密", 2, "李娜", 2, "王芳"],
        ["科字〔2024〕7号", "计划", "秘密", 1, "王芳", "第1份", "王芳"],
    ], header=header)
    plan = plan_import(CARRIERS, path)  # no 登记编号 column: the book is kept by 文号 (Ledger.key_from)
    assert plan.fills["carrier_number"] == Fill(FROM, plan.column_named("文号"))
    report = run_import(service, plan)
    assert (report.created, report.children, report.refused) == (2, 3, [])
    assert "表中没有“登记编号”列,取自“文号”列:“文号”相同的各行是同一涉密载体" in [n.message for n in report.notes]
    carrier, copies = copies_of(service, "保字〔2024〕3号")
    assert carrier.values["doc_number"] == "保字〔2024〕3号" and [c[:2] for c in copies] == [(1, "李娜"), (2, "王芳")]


def test_the_份数_left_blank_is_the_count_of_the_copies_listed(service, tmp_path):
    path = book(tmp_path / "分份登记.xlsx", [
        ["ZT-1", "通知", "机密", None, "李娜", "1-4", "李娜", None],
    ], header=COPY_HEADER)
    report = run_import(service, plan_import(CARRIERS, path))
    assert report.created == 1
    assert service.find("carriers", "ZT-1").values["copies"] == 4
    assert any("份数未填,按所列份号计为 4 份" in n.message for n in report.notes)


def test_the_command_line_imports_a_book_and_says_how_many_copies(tmp_path, capsys, monkeypatch):
    from tests.test_cli import accounts_only, as_user, service_for

    data = tmp_path / "data"
    data.mkdir()
    passwords = accounts_only(data)
    path = book(tmp_path / "登记簿.xlsx", [
        [1, "ZT-1", "通知", None, "机密", 3, "1-3", "李娜", None, None],
        [2, "ZT-2", "计划", None, "秘密", 2, "1-5", "李娜", None, None],
    ])
    args = ["--data-dir", str(data), "import", "carriers", str(path)]
    assert as_user(monkeypatch, passwords, "baomi", *args, "--dry-run") == 1
    out = capsys.readouterr().out
    assert "第 5 行 [份号] 份号“1-5”共 5 份,与份数 2 不符" in out
    assert "第 4 行 共 3 份:1–3" in out
    assert "可导入 1 条(其下载体份 3 份);未导入 1 行。" in out
    assert as_user(monkeypatch, passwords, "baomi", *args) == 1
    assert "已导入 1 条(其下载体份 3 份);未导入 1 行。" in capsys.readouterr().out
    service = service_for(data)
    assert [c.number for c in service.children(service.find("carriers", "ZT-1").id)] == [1, 2, 3]
    service.db.close()
