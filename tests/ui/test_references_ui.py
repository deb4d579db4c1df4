"""People, references and the records that refer to each other, clicked through the real
window: the navigation and filters from the declarations, the person completer, voiding a
record others refer to, the 被引用 section, child records, a person's page with its list
printed and exported, forms by ledger, and the search off the UI thread."""

from __future__ import annotations

from PySide6.QtCore import Qt

from mibao_desktop.ledgers import LEDGERS, levels, top_level
from mibao_desktop.ledgers.computers import computer_rows
from mibao_desktop.ui.tasks import wait_for_quick_reads
from tests.conftest import computer


def unclassified(**overrides):
    """A valid unclassified computer (no 密级 field)."""
    values = computer(asset_number="FM-0001", serial_number="S-F1", disk_serials="D-F1",
                      mac_addresses="00-00-00-00-0F-01", network="互联网")
    del values["level"], values["classified_on"]
    values.update(overrides)
    return values


def device(**overrides):
    """A valid office-automation device (a printer connected to nothing)."""
    values = dict(asset_number="JB-0001", device_type="打印机", brand_model="奔图 P3305DN", serial_number="OA1",
                  level="机密", responsible_person="张伟", department="保密办", location="行政楼301")
    values.update(overrides)
    return values


def test_navigation_and_filters_follow_the_declarations(window, service):
    items = [window.navigation.item(i) for i in range(window.navigation.count())]
    assert [item.data(Qt.ItemDataRole.UserRole) for item in items] == [l.key for l in top_level()]
    assert window.home_nav.item(0).text() == "首页"  # above the ledgers: what is due (it absorbed 到期提醒)
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
    assert list(people_page.filters) == ["department", "grade", "post_level", "status"]  # 涉密等级, 岗位密级
    assert "level" not in people_page.filters


# -- 3. reference and person fields in the record dialog ---------------------------------------

def pick(qtbot, editor, typed, wanted):
    """Type into a reference field, wait for the list, and choose ``wanted`` with the arrow
    keys and Enter, as a user does."""
    line = editor.focus_widget()
    line.setFocus()
    if typed.isascii():
        qtbot.keyClicks(line, typed)
    else:
        line.insert(typed)  # an input method commits Chinese whole
        line.textEdited.emit(line.text())
    popup = editor.completer.popup()
    qtbot.waitUntil(lambda: popup.isVisible() and wanted in editor.offered(), timeout=3000)
    shown = editor.completer.completionModel()
    row = next(r for r in range(shown.rowCount()) if shown.index(r, 0).data() == wanted)
    popup.setCurrentIndex(shown.index(row, 0))
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert not popup.isVisible()


def fill_computer(dialog, **values):
    for name, value in {**GOOD_COMPUTER, **values}.items():
        dialog.editors[name].set_text(value)


GOOD_COMPUTER = dict(asset_number="JM-2024-001", brand_model="联想 启天M437", serial_number="PC01", level="机密",
                     classified_on="2023-03-05", department="保密办", disk_serials="WD-1", mac_addresses="00-1A-2B-3C-4D-5E",
                     location="行政楼301")


def test_two_namesakes_are_both_offered_and_the_one_chosen_is_stored(window, qtbot, service):
    first = service.create("people", {"name": "张伟", "department": "科研一处"})
    second = service.create("people", {"name": "张伟", "department": "科研二处"})
    page = window.current_page()
    page.add_record()
    dialog = page.dialog
    fill_computer(dialog)
    person = dialog.editors["responsible_person"]
    pick(qtbot, person, "张", f"张伟(科研二处·{second.number})")
    assert sorted(person.offered()) == sorted([f"张伟(科研一处·{first.number})", f"张伟(科研二处·{second.number})"])
    assert person.text() == f"张伟(科研二处·{second.number})" and person.value().id == second.id
    user = dialog.editors["user"]
    user.focus_widget().setFocus()
    user.focus_widget().insert("张伟")  # typed, not chosen: which of the two?
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    message = dialog.error_labels["user"]
    assert message.isVisible() and first.number in message.text() and second.number in message.text()
    assert "使用人" in dialog.banner.text()
    user.focus_widget().clear()
    pick(qtbot, user, "RY", f"张伟(科研一处·{first.number})")  # the number finds the person too
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    stored = service.find("computers", "JM-2024-001")
    assert stored.values["responsible_person"].id == second.id and stored.values["user"].id == first.id
    assert service.count("people") == 2  # nobody added


def test_a_new_name_is_added_to_the_register_and_the_user_is_told(window, qtbot, service):
    page = window.current_page()
    page.add_record()
    dialog = page.dialog
    fill_computer(dialog, user="赵六", responsible_person="赵六")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert window.statusBar().currentMessage() == "已将 赵六 新增到人员名册"
    assert [p.values["name"] for p in service.iter_all("people")] == ["赵六"]
    # the record just saved is selected; editing it keeps the person it refers to
    assert page.selected_record().asset_number == "JM-2024-001"
    page.edit_selected()
    dialog = page.dialog
    assert dialog.editors["user"].value().id == service.find("computers", "JM-2024-001").values["user"].id
    dialog.editors["location"].set_text("行政楼302")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and service.count("people") == 1


def test_a_printer_shared_by_a_classified_and_an_unclassified_computer_is_refused(window, qtbot, service):
    service.create("computers", computer(asset_number="JM-0001"))
    service.create("unclassified_computers", unclassified())
    page = window.show_ledger("office_devices")
    page.add_record()
    dialog = page.dialog
    for name, value in device(asset_number="JB-0009").items():
        dialog.editors[name].set_text(value)
    connected = dialog.editors["connected_computers"]
    pick(qtbot, connected, "JM", "JM-0001(涉密计算机)")
    assert connected.text() == "JM-0001；"
    pick(qtbot, connected, "FM", "FM-0001(非涉密计算机)")
    assert connected.text() == "JM-0001；FM-0001；"
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    message = dialog.error_labels["connected_computers"]
    assert message.isVisible() and "JM-0001" in message.text() and "FM-0001" in message.text()
    assert "共用" in message.text()
    assert service.count("office_devices") == 0


def test_a_change_that_breaks_a_referring_record_is_named_in_the_general_area(window, qtbot, service):
    target = service.create("computers", computer(asset_number="JM-0001", level="秘密"))
    service.create("office_devices", device(level="秘密", connected_computers="JM-0001"))
    page = window.current_page()
    page.refresh(select_id=target.id)
    page.edit_selected()
    dialog = page.dialog
    dialog.editors["level"].set_text("机密")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert "JB-0001" in dialog.banner.text() and "相关记录" in dialog.banner.text()
    assert not any(label.isVisible() for label in dialog.error_labels.values())
    assert service.get(target.id).values["level"] == "秘密"


def test_tab_reaches_every_field_in_order_and_esc_on_a_changed_form_asks(window, qtbot, told):
    page = window.show_ledger("office_devices")
    page.add_record()
    dialog = page.dialog
    order = [dialog.editors[f.name].focus_widget() for f in LEDGERS["office_devices"].form_fields]
    order[0].setFocus()
    seen = [dialog.focusWidget()]
    for _ in order[1:]:
        qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Tab)
        seen.append(dialog.focusWidget())
    assert seen == order
    dialog.editors["location"].set_text("会议室")
    told.answers.append(False)  # 继续编辑
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Escape)
    assert dialog.isVisible() and told[-1][:2] == ("confirm", "放弃修改")
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Escape)  # now confirmed
    assert not dialog.isVisible()


# -- 4. voiding or destroying a record others refer to -----------------------------------------

def test_voiding_a_computer_a_printer_uses_names_the_printer_and_needs_confirmation(window, qtbot, service, told):
    target = service.create("computers", computer(asset_number="JM-0001"))
    service.create("office_devices", device(connected_computers="JM-0001"))
    page = window.current_page()
    page.refresh(select_id=target.id)
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    dialog = page.dialog
    dialog.reason.setCurrentText("录入错误")
    told.answers.append(False)  # 取消 at the list: nothing changes
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    kind, title, text = told[-1]
    assert (kind, title) == ("confirm", "确认作废")
    assert "办公自动化设备 JB-0001(连接的计算机)" in text and "涉密计算机 JM-0001 仍被以下 1 条记录引用" in text
    assert dialog.isVisible() and not service.get(target.id).voided
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)  # confirmed this time
    assert not dialog.isVisible() and service.get(target.id).voided
    printer = service.find("office_devices", "JB-0001")
    assert printer.display("connected_computers") == "JM-0001(已作废)"


def test_destroying_a_computer_a_printer_uses_asks_with_the_list(window, qtbot, service, told):
    target = service.create("computers", computer(asset_number="JM-0001"))
    service.create("office_devices", device(connected_computers="JM-0001"))
    service.change_status(target.id, "报废", reason="老化", confirm_referenced=True)
    page = window.current_page()
    page.refresh(select_id=target.id)
    page.change_status_selected()
    dialog = page.dialog
    assert dialog.status.currentText() == "已销毁"
    dialog.reason.setPlainText("送交销毁")
    told.answers.extend([True, False])  # yes, irrevocable; then no, at the list of referrers
    dialog.save()
    assert [t[1] for t in told[-2:]] == ["确认", "确认改为已销毁"] and "JB-0001" in told[-1][2]
    assert service.get(target.id).status == "报废" and dialog.isVisible()
    told.answers.extend([True, True])
    dialog.save()
    assert service.get(target.id).status == "已销毁" and not dialog.isVisible()


# -- 5. the detail pane: records that refer to this one, records that belong to it -------------

def test_referrers_are_listed_and_enter_goes_to_the_one_chosen(window, qtbot, service):
    target = service.create("computers", computer(asset_number="JM-0001"))
    service.create("office_devices", device(connected_computers="JM-0001"))
    service.create("office_devices", device(asset_number="JB-0002", serial_number="OA2", device_type="扫描仪",
                                            connected_computers="JM-0001"))
    service.create("office_devices", device(asset_number="JB-0003", serial_number="OA3"))  # refers to nothing
    devices = window.show_ledger("office_devices")
    devices.filters["device_type"].setCurrentText("传真机")  # hides the printer there
    assert devices.model.total == 0
    page = window.show_ledger("computers")
    page.refresh(select_id=target.id)
    detail = page.detail
    qtbot.waitUntil(lambda: not detail.loading)
    items = detail.referrer_items()
    assert [(i.text(0), i.text(1), i.text(2)) for i in items] == [("JB-0001", "连接的计算机", "在用"),
                                                                   ("JB-0002", "连接的计算机", "在用")]
    assert detail.tabs.tabText(detail.tabs.indexOf(detail.holdings_tab)) == "被引用(2)"
    assert detail.referrer_tree.topLevelItem(0).text(0) == "办公自动化设备(2)"
    detail.tabs.setCurrentWidget(detail.holdings_tab)
    detail.referrer_tree.setFocus()
    detail.referrer_tree.setCurrentItem(items[0])
    qtbot.keyClick(detail.referrer_tree, Qt.Key.Key_Return)
    assert page.dialog is None  # Enter there is the list's, not the table's 修改
    assert window.current_page() is devices
    assert devices.selected_record().asset_number == "JB-0001"  # found although the filter hid it
    assert devices.filters["device_type"].currentText() == "全部" and devices.search.text() == "JB-0001"
    assert window.focusWidget() is devices.table


def focus(qtbot, widget):
    """Give ``widget`` the keyboard focus. Offscreen, a window does not become active again by
    itself when a dialog over it closes, as it does on a desktop."""
    widget.window().activateWindow()
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus, timeout=2000)


def seals_ledger(service, monkeypatch):
    """A child ledger of the media ledger, for this test only (none is registered yet): its
    tables made as a revision would make them (tests/test_ledger_service.py does the same)."""
    import mibao_desktop.ledgers as registry
    from mibao_desktop.db import schema, search_index
    from mibao_desktop.ledgers.declaration import Ledger, Lifecycle
    from mibao_desktop.ledgers.fields import Choice, Field, Integer, Text

    seals = Ledger(
        key="test_media_seals", title="封存记录", noun="封存记录", parent="media",
        lifecycle=Lifecycle(("有效", "已拆封"), "有效"),
        fields=(Field("asset_number", "封条号", Text(max_length=20), required=True, unique=True, searchable=True),
                Field("copy_number", "份号", Integer(minimum=1), required=True),
                Field("status", "状态", Choice(("有效", "已拆封")), editable=False)),
    )
    monkeypatch.setitem(LEDGERS, seals.key, seals)
    monkeypatch.setattr(registry, "REGISTRY", (*registry.REGISTRY, seals))
    tables = (schema.build_table(seals, schema.Base.metadata), schema.build_search_table(seals, schema.Base.metadata))
    monkeypatch.setitem(schema.TABLES, seals.key, tables[0])
    monkeypatch.setitem(schema.SEARCH_TABLES, seals.key, tables[1])
    with service.db.engine.begin() as conn:
        for t in tables:
            t.create(conn)
        search_index.create(conn, tables[1].name)
    for t in tables:
        schema.Base.metadata.remove(t)
    return seals


def test_a_child_ledger_shows_in_its_parents_detail_with_add_and_edit(qtbot, services, service, monkeypatch, told):
    from mibao_desktop.ui.main_window import MainWindow
    from tests.conftest import medium

    seals = seals_ledger(service, monkeypatch)
    owner = service.create("media", medium())
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert "test_media_seals" not in [window.navigation.item(i).data(Qt.ItemDataRole.UserRole)
                                      for i in range(window.navigation.count())]
    page = window.show_ledger("media")
    page.refresh(select_id=owner.id)
    detail = page.detail
    qtbot.waitUntil(lambda: not detail.loading)
    section = detail.child_sections[seals.key]
    assert detail.tabs.tabText(detail.tabs.indexOf(section)) == "封存记录(0)"
    assert section.add_button.isEnabled() and not section.edit_button.isEnabled()
    detail.tabs.setCurrentWidget(section)
    qtbot.mouseClick(section.add_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    assert dialog.windowTitle() == "新增封存记录"
    dialog.editors["asset_number"].set_text("F-1")
    dialog.editors["copy_number"].set_text("2")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: not detail.loading)
    assert [c.asset_number for c in service.children(owner.id, seals)] == ["F-1"]
    assert section.table.rowCount() == 1 and section.table.item(0, 0).text() == "F-1"
    assert detail.tabs.tabText(detail.tabs.indexOf(section)) == "封存记录(1)"
    section.table.selectRow(0)
    focus(qtbot, section.table)
    qtbot.keyClick(section.table, Qt.Key.Key_Return)
    dialog = page.dialog
    assert dialog.windowTitle() == "修改封存记录 F-1"
    dialog.editors["copy_number"].set_text("3")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not detail.loading)
    assert section.table.item(0, 1).text() == "3"
    assert service.children(owner.id, seals)[0].values["copy_number"] == 3
    wait_for_quick_reads()


# -- 6. a person's page: what they hold or use, printed and exported ---------------------------

def holdings_of_zhang(service):
    from tests.conftest import medium

    zhang = service.create("people", {"name": "张伟", "department": "科研一处", "post": "工程师"})
    service.create("people", {"name": "李娜", "department": "保密办"})
    service.create("computers", computer(asset_number="JM-0001", user=zhang.id, responsible_person=zhang.id))
    service.create("media", medium(asset_number="JMU-0007", responsible_person=zhang.id, level="秘密"))
    service.create("office_devices", device(asset_number="JB-0003", responsible_person=zhang.id, level="秘密"))
    service.create("media", medium(asset_number="JMU-0008", serial_number="K8", responsible_person="李娜"))
    return zhang


def person_page(window, qtbot, zhang):
    page = window.show_ledger("people")
    page.refresh(select_id=zhang.id)
    qtbot.waitUntil(lambda: not page.detail.loading)
    return page


def test_a_persons_page_lists_everything_they_hold_or_use(window, qtbot, service):
    zhang = holdings_of_zhang(service)
    page = person_page(window, qtbot, zhang)
    detail = page.detail
    assert detail.tabs.currentWidget() is detail.holdings_tab  # what a person's page is for
    assert detail.tabs.tabText(0) == "保管、使用(3)"
    tree = detail.referrer_tree
    assert [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())] == \
        ["涉密计算机(1)", "移动存储介质(1)", "办公自动化设备(1)"]
    assert [[i.text(c) for c in range(5)] for i in detail.referrer_items()] == [
        ["JM-0001", "台式机 联想 启天M437", "机密", "使用人、责任人", "在用"],
        ["JMU-0007", "U盘 金士顿 DT50", "秘密", "责任人", "在用"],
        ["JB-0003", "打印机 奔图 P3305DN", "秘密", "责任人", "在用"]]
    assert "共 3 件" in detail.referrer_note.text()
    assert detail.print_button.isEnabled() and detail.export_button.isEnabled()


def test_the_holdings_list_prints_as_a_pdf_with_the_items_and_signatures(window, qtbot, service, tmp_path, told):
    import subprocess

    from mibao_desktop.security import Actor, Role
    from mibao_desktop.services.audit_service import AuditFilter, AuditService

    zhang = holdings_of_zhang(service)
    page = person_page(window, qtbot, zhang)
    qtbot.mouseClick(page.detail.print_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.dialog is not None, timeout=5000)
    dialog = page.dialog
    assert dialog.windowTitle() == "人员保管、使用的设备和介质清单"
    assert dialog.preview.page_count == 1 and dialog.print_button.isEnabled()
    out = dialog.save_pdf(tmp_path / "清单.pdf")
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True).stdout
    for wanted in ("人员保管、使用的设备和介质清单", "张伟", zhang.number, "科研一处", "工程师", "JM-0001", "JMU-0007",
                   "JB-0003", "使用人、责任人", "共 3 件", "本人", "部门负责人", "保密办"):
        assert wanted in text, wanted
    assert "JMU-0008" not in text  # 李娜's
    printed = AuditService(service.db, Actor("shenji", Role.AUDITOR)).entries(AuditFilter(action="ledger.print"))
    assert len(printed) == 1 and printed[0].detail["items"] == ["JM-0001", "JMU-0007", "JB-0003"]


def test_the_holdings_list_exports_to_excel_marked_with_the_highest_level(window, qtbot, service, tmp_path, told):
    import openpyxl

    from mibao_desktop.security import Actor, Role
    from mibao_desktop.services.audit_service import AuditFilter, AuditService

    zhang = holdings_of_zhang(service)
    page = person_page(window, qtbot, zhang)
    out = tmp_path / "清单.xlsx"
    page.export_holdings(out)
    qtbot.waitUntil(lambda: bool(out.exists() and told and told[-1][1] == "导出完成"), timeout=10000)
    sheet = openpyxl.load_workbook(out).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "机密★"  # JM-0001 is 机密: the highest among the items
    assert "张伟" in rows[1][0] and "共 3 件" in rows[1][0]
    assert rows[2][:8] == ["序号", "类别", "编号", "类型", "名称/型号", "密级", "责任关系", "状态"]
    items = [(r[1], r[2], r[5], r[6]) for r in rows[3:6]]
    assert items == [("涉密计算机", "JM-0001", "机密", "使用人、责任人"), ("移动存储介质", "JMU-0007", "秘密", "责任人"),
                     ("办公自动化设备", "JB-0003", "秘密", "责任人")]
    assert sheet.oddHeader.left.text == "机密★"  # the page header's left, where a marking stands
    assert any(r[1] == "本人签字:" for r in rows[6:])
    exported = AuditService(service.db, Actor("shenji", Role.AUDITOR)).entries(AuditFilter(action="ledger.export"))
    assert exported[0].detail["asset_numbers"] == ["JM-0001", "JMU-0007", "JB-0003"]
    assert exported[0].detail["marking"] == "机密"


# -- 7. forms come from the ledger's declaration ---------------------------------------------

def test_the_form_dialog_offers_the_ledgers_own_forms(window, qtbot, service, told, monkeypatch):
    import dataclasses

    import mibao_desktop.ledgers as registry
    from mibao_desktop.printing.templates import FORM_TEMPLATES, ledgers_for

    for ledger in registry.REGISTRY:  # every form a ledger names exists
        assert all(key in FORM_TEMPLATES for key in ledger.forms), ledger.key
    for key in FORM_TEMPLATES:
        assert ledgers_for(key) == tuple(l for l in registry.REGISTRY if key in l.forms)
    assert "media" in [l.key for l in ledgers_for("copy")] and "computers" not in [l.key for l in ledgers_for("copy")]
    service.create("office_devices", device())
    page = window.show_ledger("office_devices")
    page.table.selectRow(0)
    page.print_forms()
    choice = page.dialog.form_choice
    assert [choice.itemData(i) for i in range(choice.count())] == list(LEDGERS["office_devices"].forms)
    page.dialog.reject()
    # a ledger that starts listing a form offers it, and the command line's lookup follows
    widened = dataclasses.replace(LEDGERS["office_devices"], forms=("takeout", *LEDGERS["office_devices"].forms))
    monkeypatch.setattr(registry, "REGISTRY", tuple(widened if l.key == widened.key else l for l in registry.REGISTRY))
    assert "office_devices" in [l.key for l in ledgers_for("takeout")]
    from mibao_desktop.printing.templates import forms_of

    assert [t.key for t in forms_of(widened)] == ["takeout", "maintenance", "destruction"]
    people = window.show_ledger("people")
    assert people.forms_button.isHidden() == (not LEDGERS["people"].forms)


def test_a_copy_someone_holds_is_named_by_its_carrier_and_opens_in_the_carriers_detail(window, qtbot, service, tmp_path):
    from mibao_desktop.excel.person_holdings import collect, write_person_holdings

    zhang = service.create("people", {"name": "张伟", "department": "科研一处"})
    carrier = service.create("carriers", {"carrier_number": "ZT-1", "title": "年度计划", "level": "绝密",
                                          "classified_on": "2020-03-01", "copies": 2, "keeper": "李娜",
                                          "department": "保密办"})
    service.create("carrier_copies", {"copy_number": 1, "holder": "李娜"}, parent_id=carrier.id)
    copy = service.create("carrier_copies", {"copy_number": 2, "holder": zhang.id}, parent_id=carrier.id)
    page = person_page(window, qtbot, zhang)
    items = page.detail.referrer_items()
    assert [(i.text(0), i.text(1), i.text(2), i.text(3)) for i in items] == [("ZT-1·份号2", "纸质 年度计划", "绝密", "持有人")]
    holdings = collect(service, zhang.id)
    assert [(h.number, h.name, h.level) for h in holdings.items] == [("ZT-1·份号2", "年度计划", "绝密")]
    assert holdings.marking == "绝密"  # the carrier's level marks the list
    write_person_holdings(holdings, tmp_path / "l.xlsx")
    page.detail.referrer_tree.setCurrentItem(items[0])
    focus(qtbot, page.detail.referrer_tree)
    qtbot.keyClick(page.detail.referrer_tree, Qt.Key.Key_Return)
    carriers = window.current_page()
    assert carriers.ledger.key == "carriers" and carriers.selected_record().id == carrier.id
    qtbot.waitUntil(lambda: not carriers.detail.loading)
    section = carriers.detail.child_sections["carrier_copies"]
    assert carriers.detail.tabs.currentWidget() is section
    assert section.selected().id == copy.id


# -- 8. the search box reads off the UI thread; a save re-reads only what it changed -------------

def three_computers(service):
    for n, (user, dept) in enumerate((("张伟", "保密办"), ("李娜", "科研一处"), ("王强", "科研一处")), start=1):
        service.create("computers", computer(asset_number=f"JM-000{n}", user=user, responsible_person=user,
                                             department=dept, serial_number=f"S{n}", disk_serials=f"D{n}",
                                             mac_addresses=f"00-00-00-00-00-0{n}"))


def test_a_keystroke_searches_off_the_ui_thread_and_the_newest_wins(window, qtbot, service, monkeypatch):
    import threading
    import time

    three_computers(service)
    page = window.current_page()
    page.refresh()
    main = threading.get_ident()
    seen = []
    release = threading.Event()
    real = page.model.read

    def read(query, **kw):
        seen.append((query.text, threading.get_ident() != main))
        if query.text == "李娜":
            release.wait(5)  # a slow search: the one typed after it comes back first
        return real(query, **kw)

    monkeypatch.setattr(page.model, "read", read)
    started = time.monotonic()
    page.search.setText("李娜")
    page.apply_search()
    assert time.monotonic() - started < 0.5  # the UI thread did not wait for the database
    qtbot.waitUntil(lambda: bool(seen) and seen[-1][0] == "李娜")
    page.search.setText("王强")
    page.apply_search()
    qtbot.waitUntil(lambda: not page.searches.pending)
    assert page.model.query.text == "王强" and page.model.record_at(0).asset_number == "JM-0003"
    assert page.count_label.text() == "找到 1 条(共 3 条)"
    release.set()
    qtbot.wait(300)
    assert page.model.query.text == "王强" and page.model.total == 1  # the older answer was dropped
    assert all(off_thread for _t, off_thread in seen)
    # Enter in the box goes to the table, and the first match is selected when it comes
    page.search.setFocus()
    page.search.setText("科研一处")
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    assert window.focusWidget() is page.table
    qtbot.waitUntil(lambda: page.model.total == 2 and page.selected_record() is not None)


def test_a_broad_search_shows_its_first_page_then_its_count(window, qtbot, service, monkeypatch):
    """A search matching most of a large ledger comes back without its count (the service
    counts only when it is free): the page shows at once, the count follows off the UI thread."""
    import threading

    from mibao_desktop.services.views import Page
    from mibao_desktop.ui.table_model import PAGE_SIZE

    service.create_many("computers", list(computer_rows(PAGE_SIZE + 30)))
    page = window.current_page()
    page.refresh()
    real_query, real_count = service.query, service.count
    gate = threading.Event()

    def query(ledger, q, count=True):
        found = real_query(ledger, q, count=count)
        return found if count else Page(found.rows, None)  # as a broad search at a million records

    def count(ledger, q=None):
        if q is not None and q.text:
            gate.wait(5)  # the count is slow; the page is not
        return real_count(ledger, q)

    monkeypatch.setattr(window.services.ledgers, "query", query)
    monkeypatch.setattr(window.services.ledgers, "count", count)
    page.search.setText("JM")
    page.apply_search()
    qtbot.waitUntil(lambda: page.model.query.text == "JM")
    assert page.model.total == PAGE_SIZE and not page.model.counted
    assert page.count_label.text().startswith(f"找到 {PAGE_SIZE} 多条,正在计数")
    assert page.selected_record() is not None  # the first match is selected already
    gate.set()
    qtbot.waitUntil(lambda: page.model.counted)
    assert page.model.total == PAGE_SIZE + 30
    assert page.count_label.text() == f"找到 {PAGE_SIZE + 30} 条(共 {PAGE_SIZE + 30} 条)"
    assert page.model.record_at(PAGE_SIZE + 29) is not None  # the rows past the first page are there


def test_a_save_reads_the_page_and_the_counts_of_what_it_changed_only(window, qtbot, service, monkeypatch):
    three_computers(service)
    page = window.current_page()
    page.refresh()
    counted, read = [], []
    real_count, real_read = service.count, page.model.read
    monkeypatch.setattr(window.services.ledgers, "count",
                        lambda ledger, query=None: counted.append(service.ledger(ledger).key) or real_count(ledger, query))
    monkeypatch.setattr(page.model, "read", lambda query, **kw: read.append(query.text) or real_read(query, **kw))
    page.table.selectRow(1)
    page.edit_selected()
    page.dialog.editors["location"].set_text("行政楼105")
    qtbot.mouseClick(page.dialog.save_button, Qt.MouseButton.LeftButton)
    assert page.dialog is None
    assert read == [""]  # the table's first page, once
    assert counted == ["computers"]  # its navigation count; no other ledger's
    assert page.selected_record().asset_number == "JM-0002"  # the record just saved stays selected
    counted.clear()
    page.add_record()
    fill_computer(page.dialog, user="新来的人", responsible_person="新来的人")
    qtbot.mouseClick(page.dialog.save_button, Qt.MouseButton.LeftButton)
    assert sorted(counted) == ["computers", "people"]  # a person was added on the way
    assert window.navigation.item([l.key for l in top_level()].index("people")).text().endswith(" 4")


def test_a_person_or_record_in_the_detail_is_a_link_that_goes_there(window, qtbot, service):
    from PySide6.QtWidgets import QLabel

    target = service.create("computers", computer(asset_number="JM-0001"))
    printer = service.create("office_devices", device(connected_computers="JM-0001"))
    page = window.show_ledger("office_devices")
    page.refresh(select_id=printer.id)
    form = page.detail.form

    def value_of(label):
        row = next(r for r in range(form.rowCount())
                   if form.itemAt(r, form.ItemRole.LabelRole).widget().text() == label)
        return form.itemAt(row, form.ItemRole.FieldRole).widget()

    connected = value_of("连接的计算机:")
    assert isinstance(connected, QLabel) and f'href="{target.id}"' in connected.text()
    connected.linkActivated.emit(str(target.id))
    assert window.current_page().ledger.key == "computers"
    assert window.current_page().selected_record().id == target.id
    person = service.get(printer.id).values["responsible_person"]
    page = window.show_ledger("office_devices")
    value_of("责任人:").linkActivated.emit(str(person.id))
    assert window.current_page().ledger.key == "people"
    assert window.current_page().selected_record().values["name"] == "张伟"


def test_a_person_added_by_hand_is_numbered_when_the_number_is_left_empty(window, qtbot, service):
    page = window.show_ledger("people")
    page.add_record()
    dialog = page.dialog
    assert dialog.editors["person_number"].text() == ""
    dialog.editors["name"].set_text("周敏")
    dialog.editors["department"].set_text("档案室")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible(), dialog.banner.text()
    assert page.selected_record().values["name"] == "周敏"
    assert page.selected_record().number.startswith("RY-")
