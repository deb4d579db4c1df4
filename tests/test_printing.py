"""Labels and forms as PDF: text, embedded font, 100 % printing, label positions, QR codes."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from mibao_desktop.printing import labels as L
from mibao_desktop.printing.templates import FORM_TEMPLATES
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.audit_service import AuditFilter, AuditService
from mibao_desktop.errors import PermissionDenied, ServiceError
from mibao_desktop.services.print_service import PrintService
from tests.conftest import computer, medium

MM = 72 / 25.4


@pytest.fixture
def printing(db):
    return PrintService(db, Actor("baomi", Role.SECURITY_ADMIN))


@pytest.fixture
def machines(service):
    made = []
    for i, (person, level) in enumerate((("张伟", "机密"), ("李娜", "秘密"), ("王强", "绝密"))):
        made.append(service.create("computers", computer(
            asset_number=f"JM-2024-{i + 1:03d}", responsible_person=person, user=person, level=level,
            serial_number=f"SN{i}", disk_serials=f"DISK{i}", mac_addresses=f"00-1A-2B-00-00-0{i}")))
    return made


def pdftotext(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_label_text_holds_the_record_values(printing, machines, tmp_path):
    out = tmp_path / "labels.pdf"
    drawn = printing.labels(machines[0].ledger, machines, out, L.PRESETS["a4-3x8"])
    assert drawn == 3
    text = pdftotext(out)
    for record in machines:
        assert record.asset_number in text
        assert record.display("responsible_person") in text
        assert f"{record.values['level']}★" in text
    assert "定密时间:2023-03-05" in text and "涉密计算机" in text


def test_the_font_is_embedded_as_a_subset_and_nothing_else_is_used(printing, machines, tmp_path):
    out = tmp_path / "labels.pdf"
    printing.labels(machines[0].ledger, machines, out, L.PRESETS["a4-3x8"])
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    rows = fonts.strip().splitlines()[2:]
    assert rows and all("WenQuanYi" in row for row in rows), fonts
    assert all(re.search(r"\byes\s+yes\s+(yes|no)\s", row) for row in rows), fonts  # embedded, subset
    assert "Helvetica" not in fonts


def test_the_pdf_asks_for_printing_at_100_percent(printing, machines, tmp_path):
    out = tmp_path / "labels.pdf"
    printing.labels(machines[0].ledger, machines, out, L.PRESETS["a4-3x8"])
    prefs = PdfReader(out).trailer["/Root"]["/ViewerPreferences"]
    assert prefs["/PrintScaling"] == "/None"


def label_boxes(path, width_mm, height_mm):
    """The stroked rectangles of label size on each page, as (page, left mm, top mm)."""
    found = []
    for number, page in enumerate(PdfReader(path).pages):
        height_pt = float(page.mediabox.height)
        from pypdf.generic import ContentStream

        for operands, operator in ContentStream(page.get_contents(), page.pdf).operations:
            if operator == b"re":
                x, y, w, h = (float(v) for v in operands)
                if abs(w - width_mm * MM) < 0.05 and abs(h - height_mm * MM) < 0.05:
                    found.append((number, round(x / MM, 3), round((height_pt - y - h) / MM, 3)))
    return found


def test_each_label_lies_where_the_layout_puts_it(printing, machines, tmp_path):
    layout = L.PRESETS["a4-3x7"]  # 63.5 × 38.1 mm, left 7.2, top 15.15, gap 2.5 across
    printing.set_offset("PDF", 1.5, -0.8)
    out = tmp_path / "grid.pdf"
    records = machines * 7  # 21 labels from position 5: 17 on the first sheet, 4 on the second
    printing.labels(machines[0].ledger, records, out, layout, start=5)
    boxes = label_boxes(out, 63.5, 38.1)
    assert len(boxes) == 21
    expected = []
    for n in range(4, 4 + 21):
        page, slot = divmod(n, 21)
        row, col = divmod(slot, 3)
        expected.append((page, 7.2 + col * (63.5 + 2.5) + 1.5, 15.15 + row * 38.1 - 0.8))
    for (page, x, y), (epage, ex, ey) in zip(boxes, expected):
        assert page == epage and abs(x - ex) <= 0.2 and abs(y - ey) <= 0.2, ((page, x, y), (epage, ex, ey))


def test_copies_and_a_single_label_roll(printing, machines, tmp_path):
    out = tmp_path / "roll.pdf"
    drawn = printing.labels(machines[0].ledger, machines[:2], out, L.PRESETS["roll-50x30"], copies=3)
    reader = PdfReader(out)
    assert drawn == 6 and len(reader.pages) == 6
    assert round(float(reader.pages[0].mediabox.width) / MM) == 50
    assert label_boxes(out, 50, 30)[0][1:] == (0.0, 0.0)


@pytest.mark.skipif(shutil.which("zbarimg") is None, reason="zbar-tools is installed by scripts/setup")
def test_the_qr_code_decodes_to_the_asset_number(printing, machines, tmp_path):
    out = tmp_path / "one.pdf"
    printing.labels(machines[0].ledger, machines[:1], out, L.PRESETS["roll-60x40"])
    subprocess.run(["pdftoppm", "-r", "300", "-png", str(out), str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True)
    assert decoded.stdout.strip() == machines[0].asset_number


def test_reminder_labels_and_the_unclassified_ledger(printing, service, tmp_path):
    values = {k: v for k, v in computer(asset_number="FM-001", network="互联网").items()
              if k not in ("level", "classified_on")}
    plain = service.create("unclassified_computers", values)
    out = tmp_path / "reminder.pdf"
    printing.labels(plain.ledger, [plain], out, L.PRESETS["a4-2x7"], kind=L.REMINDER_LABEL)
    text = pdftotext(out)
    assert "禁止处理涉密信息" in text and "FM-001" in text
    with pytest.raises(ServiceError, match="没有密级标识"):
        printing.labels(plain.ledger, [plain], io.BytesIO(), L.PRESETS["a4-2x7"], kind=L.LEVEL_LABEL)


def test_bad_layouts_are_explained(printing, machines):
    wide = L.LabelLayout("x", "x", *L.A4, 4, 8, 70, 37)
    with pytest.raises(ServiceError, match="超出纸宽"):
        printing.labels(machines[0].ledger, machines, io.BytesIO(), wide)
    with pytest.raises(ServiceError, match="起始位置应在 1 到 24 之间"):
        printing.labels(machines[0].ledger, machines, io.BytesIO(), L.PRESETS["a4-3x8"], start=25)
    with pytest.raises(ServiceError, match="偏移量"):
        printing.set_offset("HP", 30, 0)


def test_every_print_is_recorded_and_only_the_security_admin_prints(db, printing, machines, tmp_path):
    printing.labels(machines[0].ledger, machines, tmp_path / "a.pdf", L.PRESETS["a4-3x8"], printer="HP-1")
    printing.labels(machines[0].ledger, machines, io.BytesIO(), L.PRESETS["a4-3x8"], record=False)  # a preview
    printing.form("destruction", machines[0].ledger, machines, tmp_path / "d.pdf")
    log = AuditService(db, Actor("shenji", Role.AUDITOR)).entries(AuditFilter(action="ledger.print"))
    assert len(log) == 2
    assert log[0].detail["what"] == "销毁审批表(附清单)" and log[0].detail["count"] == 3
    assert log[1].detail["what"] == "密级标识" and log[1].detail["labels"] == 3 and log[1].detail["printer"] == "HP-1"
    for role in (Role.SYSTEM_ADMIN, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            PrintService(db, Actor("x", role)).labels(machines[0].ledger, machines, io.BytesIO(),
                                                       L.PRESETS["a4-3x8"])


def test_every_form_renders_filled_in(printing, machines, service, tmp_path):
    disk = service.create("media", medium())
    service.change_status(machines[0].id, "维修", facts={"repaired_by": "航天信息维修中心", "escort": "李娜", "storage_removed": "是"})
    service.change_status(machines[0].id, "在用")
    service.change_status(machines[0].id, "报废", reason="硬盘故障送修")
    printing.set_unit_name("某研究所")
    expectations = {
        "takeout": (machines[:1], ["涉密信息设备外出审核表", "JM-2024-001", "保密办", "张伟", "机密", "部门领导意见", "返回检查情况"]),
        "maintenance": (machines[:1], ["维护淘汰管理档案", "JM-2024-001", "DISK0", "硬盘故障送修", "维护淘汰负责人"]),
        "destruction": (machines, ["销毁审批表", "JM-2024-002", "监销人", "承销单位", "共 3 件"]),
        "copy": ([disk], ["复制审批表", "JMU-0001", "秘密"]),
        "borrowing": ([disk], ["借阅登记簿", "JMU-0001", "归还日期"]),
        "distribution": ([disk], ["分发签收单", "JMU-0001", "签收人签字"]),  # carrier copies: tests/test_carrier_actions.py
        "commitment": (machines[:1], ["保密承诺书", "张伟", "脱密期管理", "承诺人"]),
        "departure": (machines[:1], ["离岗保密承诺书", "脱密期", "清退"]),
        "holdings": ([service.get(machines[0].values["user"].id)],  # 张伟, the person
                     ["设备和介质清单", "张伟", "JM-2024-001", "使用人、责任人", "共 1 件", "部门负责人", "保密办"]),
    }
    # forms of a trip or an exit document need those records: tests/test_travel.py fills each
    travel_forms = {"trip_approval", "trip_briefing", "document_register"}
    assert set(expectations) | travel_forms == set(FORM_TEMPLATES)
    for key, (records, words) in expectations.items():
        out = tmp_path / f"{key}.pdf"
        printing.form(key, records[0].ledger, records, out)
        text = pdftotext(out).replace(" ", "")
        for word in words + ["某研究所"]:
            assert word.replace(" ", "") in text, (key, word)
    with pytest.raises(ServiceError, match="一次填写一条记录"):
        printing.form("takeout", machines[0].ledger, machines, io.BytesIO())


def test_a_long_destruction_list_runs_over_pages_with_totals(printing, service, tmp_path):
    from mibao_desktop.demo import computer_rows

    ids = service.create_many("computers", list(computer_rows(70))).created
    records = [service.get(i) for i in ids]
    out = tmp_path / "d.pdf"
    pages = printing.form("destruction", records[0].ledger, records, out)
    assert pages >= 3
    text = pdftotext(out)
    assert records[-1].asset_number in text and "共 70 件" in text
    assert text.count("序号") == pages  # the list's header on every page
