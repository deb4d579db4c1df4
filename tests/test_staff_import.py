"""Import of a hand-kept staff sheet (涉密人员台账, issue 14 item 8): the units' own header words,
the ID number's check digit verified row by row, and a person recognised by their ID number —
already registered, or twice in the file. Written by openpyxl, imported through the real
importer and service into a real database."""

from __future__ import annotations

import datetime as dt

from mibao_desktop.excel import import_ledger
from mibao_desktop.excel.importer import plan_import
from mibao_desktop.ledgers import LEDGERS
from mibao_desktop.services.repository import LedgerQuery

from tests.test_review_import import save  # noqa: E402  (a sheet written row by row)
from tests.test_staff import ID_2, ID_X, staff, valid_id, wrong_check

PEOPLE = LEDGERS["people"]
ID_3 = valid_id("32010219850612004")
ID_4 = valid_id("33060219920230001")  # 30 February: no such day
ID_5 = valid_id("44030519780808123")
HEADER = ["序号", "姓 名", "性别", "所在部门", "涉密岗位", "涉密等级", "政治面貌", "公民身份号码", "联系电话",
          "确定涉密人员日期", "任现岗时间", "审查日期", "审查结果", "承诺书签订日期", "复审日期", "备注"]


def sheet_rows():
    return [
        ["涉密人员登记表"],
        HEADER,
        [1, "王芳", "女", "保密办", "机要员", "核心涉密人员", "中共党员", ID_3, "13900000001", dt.datetime(2019, 4, 1),
         dt.datetime(2019, 4, 1), dt.datetime(2019, 3, 10), "合格", dt.datetime(2019, 4, 1), dt.datetime(2025, 3, 1), None],
        [2, "刘洋", "男", "科研一处", "科研人员", "一般", "群众", wrong_check(ID_5), None, None, None, None, None, None,
         None, "校验位错"],
        [3, "陈明", "男", "科研二处", "项目负责人", "重要", "中共党员", ID_X, None, None, None, None, None, None, None,
         "已登记过"],
        [4, "赵强", "男", "财务处", None, "非涉密", "群众", ID_5, None, None, None, None, None, None, None, None],
        [5, "赵强", "男", "财务处", None, "非涉密人员", "群众", ID_5.lower(), None, None, None, None, None, None, None,
         "同一人写了两行"],
        [6, "孙丽", "女", "人事处", "人事干部", "一般", "共青团员", ID_4, None, None, None, None, None, None, None, None],
        [7, "周杰", "男", "信息中心", "机房管理员", "核心", "党员", ID_2, None, None, None, dt.datetime(2024, 5, 1),
         "不合格", None, None, None],
        # typed into a number cell: Excel kept 15 digits, the end of the number is gone
        [8, "吴刚", "男", "档案室", None, "一般", "群众", int(ID_3), None, None, None, None, None, None, None, None],
    ]


def test_a_staff_sheet_in_a_units_own_words_maps_every_column(service, tmp_path):
    path = save(tmp_path / "涉密人员.xlsx", sheet_rows())
    plan = plan_import(PEOPLE, path)
    by_header = {plan.headers[i]: plan.label_of(n) for i, n in plan.mapping.items()}
    assert by_header == {"姓 名": "姓名", "性别": "性别", "所在部门": "部门", "涉密岗位": "岗位", "涉密等级": "涉密等级",
                         "政治面貌": "政治面貌", "公民身份号码": "身份证号", "联系电话": "联系电话",
                         "确定涉密人员日期": "成为涉密人员日期", "任现岗时间": "任现岗日期", "审查日期": "任前审查日期",
                         "审查结果": "审查结论", "承诺书签订日期": "保密承诺书签订日期", "复审日期": "上次复审日期",
                         "备注": "备注"}


def test_each_problem_of_a_staff_sheet_is_named_by_its_row(service, tmp_path):
    registered = service.create("people", staff(name="陈明", id_number=ID_X))
    path = save(tmp_path / "涉密人员.xlsx", sheet_rows())
    report = import_ledger(service, PEOPLE, path)
    refused = {}
    for r in report.refused:
        refused.setdefault(r.row, []).append(r.message)
    assert sorted(refused) == [4, 5, 7, 8, 10], refused
    said = {row: " ".join(messages) for row, messages in refused.items()}
    assert "校验位不符" in said[4] and wrong_check(ID_5) in said[4]
    assert "陈明" in said[5] and ID_X in said[5]  # the same ID number is already registered: who holds it
    assert said[7] == "与第 6 行重复"  # the second row of one person names the first, under the ID column
    assert {r.column for r in report.refused if r.row in (5, 7)} == {"公民身份号码"}
    assert "出生日期无效" in said[8]
    assert "存成了数字" in said[10] and "文本" in said[10]
    assert report.created == 3
    stored = {r.values["name"]: r.values for r in service.query("people", LedgerQuery(limit=None)).rows}
    wang = stored["王芳"]
    assert (wang["grade"], wang["sex"], wang["vetting_result"], wang["id_number"], wang["id_tail"]) == (
        "核心", "女", "通过", ID_3, ID_3[-4:])
    assert wang["last_review"] == dt.date(2025, 3, 1) and wang["next_review"] == dt.date(2026, 3, 1)
    # 非涉密 is a grade here, not taken for a 岗位密级 (the cell rule moves only a post's 密级: 机密)
    assert (stored["赵强"]["grade"], stored["赵强"]["post_level"]) == ("非涉密", None)
    assert (stored["周杰"]["vetting_result"], stored["周杰"]["political_status"]) == ("不通过", "中共党员")
    assert service.get(registered.id).values["name"] == "陈明"  # untouched


def test_a_persons_file_is_imported_under_the_people_it_names(service):
    """Entries of the 人员档案 imported on their own: 所属人员 names the person by 人员编号."""
    person = service.create("people", staff(person_number="RY-0101"))
    result = service.create_many("staff_files", [
        {"_parent": "RY-0101", "kind": "无犯罪记录证明", "entry_date": "2020-01-20", "outcome": "无犯罪记录"},
        {"_parent": "RY-0101", "kind": "奖惩", "entry_date": "2023-12-30", "outcome": "保密工作先进个人"},
        {"_parent": "RY-0999", "kind": "奖惩", "entry_date": "2023-12-30", "outcome": "查无此人"},
        {"_parent": "RY-0101", "kind": "体检表", "entry_date": "2023-12-30"},
    ])
    assert len(result.created) == 2
    assert sorted(r.index for r in result.refused) == [2, 3]
    assert [e.values["kind"] for e in service.children(person.id, "staff_files")] == ["无犯罪记录证明", "奖惩"]
