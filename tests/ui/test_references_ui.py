"""People, references and the records that refer to each other, clicked through the real
window: the navigation and filters from the declarations, the person completer, voiding a
record others refer to, the 被引用 section, child records, a person's page with its list
printed and exported, forms by ledger, and the search off the UI thread."""

from __future__ import annotations

from PySide6.QtCore import Qt

from mibao_desktop.ledgers import LEDGERS, levels, top_level
from tests.conftest import computer


def device(**overrides):
    """A valid office-automation device (a printer connected to nothing)."""
    values = dict(asset_number="JB-0001", device_type="打印机", brand_model="奔图 P3305DN", serial_number="OA1",
                  level="机密", responsible_person="张伟", department="保密办", location="行政楼301")
    values.update(overrides)
    return values


def test_navigation_and_filters_follow_the_declarations(window, service):
    assert [window.navigation.item(i).data(Qt.ItemDataRole.UserRole) for i in range(window.navigation.count())] \
        == [l.key for l in top_level()]
    service.create("office_devices", device())
    service.create("office_devices", device(asset_number="FB-0002", serial_number="OA2", level="非涉密",
                                            department="科研一处", device_type="扫描仪"))
    window.refresh_counts()
    row = [l.key for l in top_level()].index("office_devices")
    assert window.navigation.item(row).text() == "办公自动化设备  2"
    people = [l.key for l in top_level()].index("people")
    assert window.navigation.item(people).text() == "人员  1"  # 张伟, added by the first device
    page = window.show_ledger("office_devices")
    ledger = LEDGERS["office_devices"]
    assert list(page.filters) == [f.name for f in ledger.facet_fields]
    kinds = page.filters["device_type"]
    assert [kinds.itemText(i) for i in range(kinds.count())] == ["全部", *ledger.field("device_type").choices]
    departments = page.filters["department"]
    assert [departments.itemText(i) for i in range(departments.count())] == ["全部", "保密办", "科研一处"]
    kinds.setCurrentText("扫描仪")
    assert page.model.total == 1 and page.model.record_at(0).asset_number == "FB-0002"
    assert page.count_label.text() == "找到 1 条(共 2 条)"
    kinds.setCurrentText("全部")
    page.filters["level"].setCurrentText("机密")
    assert page.model.total == 1
    column = page.model.column_of("level")
    brush = page.model.data(page.model.index(0, column), Qt.ItemDataRole.ForegroundRole)
    assert brush.color().name().lower() == levels.COLOURS["机密"].lower()
    people_page = window.show_ledger("people")  # no 密级 there: no level list either
    assert list(people_page.filters) == ["department", "status"]
