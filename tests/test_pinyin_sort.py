"""Names and departments sort in pinyin order (按拼音排序, issue 12 item 3), on a real database
(SQLite file, or PostgreSQL with MIBAO_TEST_DATABASE): a page sorted by 部门, by 责任人 and the
people by 姓名 come as Excel's 按拼音排序 gives them, whichever way the page is found (the whole
ledger walked in index order, a search, a filter, a later page), and stay in order after a
rename."""

from __future__ import annotations

import pytest

from mibao_desktop.ledgers.pinyin import initials, sort_key
from mibao_desktop.services.repository import LedgerQuery
from tests.conftest import computer

# code-point order would give 保密办 < 张伟 < 李娜 < 王强 < 科研一处 < 赵敏 < 财务处 (by the
# first character's number), which no administrator recognises
DEPARTMENTS = ["财务处", "保密办", "科研一处", "安全处", "综合办公室", "档案室"]
PINYIN_DEPARTMENTS = ["安全处", "保密办", "财务处", "档案室", "科研一处", "综合办公室"]
NAMES = ["赵敏", "张伟", "李娜", "王强", "阿依", "章伟", "欧阳娜娜"]
PINYIN_NAMES = ["阿依", "李娜", "欧阳娜娜", "王强", "张伟", "章伟", "赵敏"]


def test_the_sort_key_orders_as_pinyin_and_keeps_texts_apart():
    assert sorted(DEPARTMENTS, key=sort_key) == PINYIN_DEPARTMENTS
    assert sorted(DEPARTMENTS) != PINYIN_DEPARTMENTS  # the test means something
    assert sorted(["张伟明", "张伟", "西安", "先", "吕布", "卢布"], key=sort_key) == ["卢布", "吕布", "西安", "先", "张伟", "张伟明"]
    assert sort_key("张伟") != sort_key("章伟") and sort_key("") is None
    assert sort_key("JM-01") < sort_key("科研一处")  # latin letters in their place among the syllables (j < k)
    # 〇 (U+3007, outside the unified block) is read as ling: 七〇六所 between 七二所 and 七一所
    assert sorted(["七一所", "七〇六所", "七二所"], key=sort_key) == ["七二所", "七〇六所", "七一所"]
    assert "qlls" in initials("七〇六所")


@pytest.fixture
def fleet(service):
    """Computers of each department, each with its own person."""
    made = []
    for i, (department, name) in enumerate(zip(DEPARTMENTS * 2, NAMES * 2)):
        made.append(service.create("computers", computer(
            asset_number=f"JM-{i:04d}", serial_number=f"S{i}", disk_serials=f"D{i}",
            mac_addresses=f"00-1A-2B-3C-4D-{i:02X}", department=department,
            user=name, responsible_person=name)))
    return made


def _shown(service, field, **query):
    return [r.display(field) for r in service.query("computers", LedgerQuery(sort=field, limit=None, **query)).rows]


def test_a_page_sorted_by_department_is_in_pinyin_order_both_ways(service, fleet):
    up = _shown(service, "department")
    assert up == sorted(up, key=sort_key) and sorted(set(up), key=up.index) == PINYIN_DEPARTMENTS
    down = _shown(service, "department", descending=True)
    assert sorted(set(down), key=down.index) == PINYIN_DEPARTMENTS[::-1]
    # a page at a time gives the same order as the whole
    pages = [r.display("department") for offset in range(0, len(fleet), 5)
             for r in service.query("computers", LedgerQuery(sort="department", limit=5, offset=offset)).rows]
    assert pages == up
    # the department filter's list in the same order
    assert service.distinct_values("computers", "department") == PINYIN_DEPARTMENTS
    # a search's few rows, sorted the same way
    found = _shown(service, "department", text="JM-000")
    assert found == sorted(found, key=sort_key) and len(found) == 10


def test_a_page_sorted_by_a_person_is_in_the_pinyin_order_of_names(service, fleet):
    for field in ("responsible_person", "user"):
        up = _shown(service, field)
        assert sorted(set(up), key=up.index) == PINYIN_NAMES, field
        down = _shown(service, field, descending=True)
        assert sorted(set(down), key=down.index) == PINYIN_NAMES[::-1], field
        filtered = _shown(service, field, filters={"department": "保密办"})
        assert filtered == sorted(filtered, key=sort_key) and set(filtered) == {"张伟", "赵敏"}
    people = [p.display("name") for p in service.query("people", LedgerQuery(sort="name", limit=None)).rows]
    assert people == PINYIN_NAMES


def test_a_renamed_department_or_person_moves_to_its_new_place(service, fleet):
    first = fleet[0]  # 财务处, 赵敏
    service.update(first.id, {"department": "办公室"})
    up = _shown(service, "department")
    assert up[0] == "安全处" and up[2] == "办公室" and up == sorted(up, key=sort_key)
    zhao = first.values["responsible_person"]
    service.update(zhao.id, {"name": "艾敏"})
    names = _shown(service, "responsible_person")
    assert names[:4] == ["阿依", "阿依", "艾敏", "艾敏"] and names == sorted(names, key=sort_key)
