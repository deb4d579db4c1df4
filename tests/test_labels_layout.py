"""What a label says and where (issue 12 item 7), read back from the PDF as a unit's printer
gets it: reminder lines break between words (never inside 互联网 or 公共信息网络), the unit's
name when asked, the number once, and a safe margin that keeps the print inside the labels."""

from __future__ import annotations

import io
import re
import subprocess

import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream

from mibao_desktop.ledgers import REGISTRY
from mibao_desktop.printing import labels as L
from mibao_desktop.errors import ServiceError
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.print_service import PrintService
from tests.conftest import computer, medium

MM = 72 / 25.4
WORDS = ("互联网", "公共信息网络", "涉密计算机", "非涉密计算机", "涉密信息", "移动存储介质", "办公自动化设备",
         "国家秘密载体", "留存")  # never cut by a line's end
UNIT = "某某市某某研究所"
LAYOUTS = [*L.PRESETS.values(),
           L.LabelLayout("narrow", "窄标签", *L.A4, 4, 10, 40, 22),  # a narrow custom grid
           L.LabelLayout("square", "方标签", *L.A4, 5, 8, 30, 30)]


@pytest.fixture
def printing(db):
    return PrintService(db, Actor("baomi", Role.SECURITY_ADMIN))


@pytest.fixture
def machine(service):
    return service.create("computers", computer(asset_number="JM-2024-001", responsible_person="张伟", level="机密"))


def label_text(pdf: bytes | str, layout: L.LabelLayout, position: int = 0, page: int = 1) -> list[str]:
    """The lines of text printed inside the label at ``position`` of ``page`` (spaces dropped)."""
    x, y = layout.box(position)
    args = ["pdftotext", "-f", str(page), "-l", str(page), "-r", "72", "-layout",
            "-x", str(int(x * MM)), "-y", str(int(y * MM)), "-W", str(int(layout.label_width * MM)),
            "-H", str(int(layout.label_height * MM))]
    if isinstance(pdf, bytes):
        text = subprocess.run([*args, "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    else:
        text = subprocess.run([*args, str(pdf), "-"], capture_output=True, check=True).stdout.decode()
    return [line for line in (re.sub(r"\s+", "", raw) for raw in text.splitlines()) if line]


def reminder_lines(lines: list[str], reminder: str) -> list[str]:
    return [line for line in lines if line in reminder and not line.startswith("保密提醒")]


def assert_broken_between_words(lines: list[str], reminder: str, where: str) -> None:
    found = reminder_lines(lines, reminder)
    assert "".join(found) == reminder, (where, lines)
    for word in WORDS:
        whole = sum(line.count(word) for line in found)
        assert whole == reminder.count(word), f"{where}: a line ends inside {word}: {found}"


def test_the_computer_reminder_never_breaks_inside_a_word_on_any_sheet(printing, machine):
    reminder = "涉密计算机严禁接入互联网及其他公共信息网络"
    for layout in LAYOUTS:
        out = io.BytesIO()
        printing.labels(machine.ledger, [machine], out, layout, kind=L.REMINDER_LABEL)
        assert_broken_between_words(label_text(out.getvalue(), layout), reminder, layout.title)


def test_every_declared_reminder_breaks_only_between_its_phrases():
    ledgers = [ledger for ledger in REGISTRY if ledger.label is not None]
    assert {ledger.key for ledger in ledgers} >= {"computers", "unclassified_computers", "media", "office_devices"}
    for ledger in ledgers:
        spec = ledger.label
        assert len(spec.phrases) > 1 and "".join(spec.phrases) == spec.reminder, ledger.key
        content = L.LabelContent(spec.title, None, (), "X-001", spec.reminder, spec.phrases)
        for layout in LAYOUTS:
            out = io.BytesIO()
            L.render_labels(out, [content], layout, L.SheetOptions(kind=L.REMINDER_LABEL))
            assert_broken_between_words(label_text(out.getvalue(), layout), spec.reminder,
                                        f"{ledger.key} on {layout.title}")


def test_an_undeclared_text_breaks_after_its_punctuation_or_shrinks():
    text = "涉密办公自动化设备严禁连接互联网、严禁与非涉密计算机共用"
    content = L.LabelContent("办公自动化设备", None, (), "X-001", text)  # no phrases: clauses
    layout = L.PRESETS["a4-3x8"]
    out = io.BytesIO()
    L.render_labels(out, [content], layout, L.SheetOptions(kind=L.REMINDER_LABEL))
    lines = reminder_lines(label_text(out.getvalue(), layout), text)
    assert lines == ["涉密办公自动化设备严禁连接互联网、", "严禁与非涉密计算机共用"]
    size, fitted = L.fit_phrases(("公共信息网络",), 36, 40, 20)  # one word, a narrow box: shrunk
    assert fitted == ("公共信息网络",) and 5.5 <= size <= 6
    size, fitted = L.fit_phrases(("公共信息网络",), 12, 40, 20)  # below 5 pt: broken rather than unreadable
    assert len(fitted) > 1 and "".join(fitted) == "公共信息网络" and size >= 5


def test_the_unit_name_is_printed_when_asked(printing, machine):
    layout = L.PRESETS["a4-3x8"]
    with pytest.raises(ServiceError, match="单位名称"):
        printing.labels(machine.ledger, [machine], io.BytesIO(), layout, unit=True)
    printing.set_unit_name(UNIT)
    for kind in (L.LEVEL_LABEL, L.REMINDER_LABEL):
        plain, named = io.BytesIO(), io.BytesIO()
        printing.labels(machine.ledger, [machine], plain, layout, kind=kind)
        printing.labels(machine.ledger, [machine, machine], named, layout, kind=kind, unit=True)
        assert UNIT not in "".join(label_text(plain.getvalue(), layout))
        for position in (0, 1):
            lines = label_text(named.getvalue(), layout, position)
            assert sum(UNIT in line for line in lines) == 1, (kind, lines)
            assert machine.asset_number in "".join(lines)
    for roll in ("roll-50x30", "roll-60x40"):  # the smallest labels keep it whole too
        out = io.BytesIO()
        printing.labels(machine.ledger, [machine], out, L.PRESETS[roll], unit=True)
        assert any(UNIT in line for line in label_text(out.getvalue(), L.PRESETS[roll]))


def test_the_number_is_printed_once_on_each_label(printing, machine, service):
    disk = service.create("media", medium())
    for record in (machine, disk):
        for kind in (L.LEVEL_LABEL, L.REMINDER_LABEL):
            for layout in (L.PRESETS["a4-3x8"], L.PRESETS["roll-60x40"]):
                out = io.BytesIO()
                printing.labels(record.ledger, [record], out, layout, kind=kind)
                text = "".join(label_text(out.getvalue(), layout))
                assert text.count(record.asset_number) == 1, (record.asset_number, kind, layout.name, text)
    out = io.BytesIO()  # a level label whose lines do not name the number keeps it under the QR code
    content = L.LabelContent("涉密计算机", "秘密", (("责任人", "张伟"),), "JM-9", "禁止")
    L.render_labels(out, [content], L.PRESETS["roll-60x40"])
    assert "".join(label_text(out.getvalue(), L.PRESETS["roll-60x40"])).count("JM-9") == 1


def printed_boxes(pdf: bytes, layout: L.LabelLayout) -> list[tuple[float, float, float, float]]:
    """Every rectangle drawn (bands, QR modules) but the labels' outlines, and every word's box,
    as (left, top, right, bottom) in mm from the sheet's top-left corner."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    height = float(page.mediabox.height)
    boxes = []
    for operands, operator in ContentStream(page.get_contents(), page.pdf).operations:
        if operator == b"re":
            x, y, w, h = (float(v) for v in operands)
            if abs(w - layout.label_width * MM) < 0.05 and abs(h - layout.label_height * MM) < 0.05:
                continue  # the cutting outline lies on the label's edge
            boxes.append((x / MM, (height - y - h) / MM, (x + w) / MM, (height - y) / MM))
    html = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-bbox", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()
    for x0, y0, x1, y1 in re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"', html):
        boxes.append((float(x0) / MM, float(y0) / MM, float(x1) / MM, float(y1) / MM))
    return boxes


def test_the_safe_margin_keeps_the_print_inside_each_label(printing, machine):
    layout = L.PRESETS["a4-3x8"]  # 70 × 37 mm from the sheet's left edge: a printer's blind strip
    margin = 4.0
    for kind in (L.LEVEL_LABEL, L.REMINDER_LABEL):
        edge, safe = io.BytesIO(), io.BytesIO()
        printing.labels(machine.ledger, [machine] * 3, edge, layout, kind=kind)
        printing.labels(machine.ledger, [machine] * 3, safe, layout, kind=kind, safe_margin=margin)
        before, after = printed_boxes(edge.getvalue(), layout), printed_boxes(safe.getvalue(), layout)
        assert len(before) == len(after) > 10
        # without it the band and the text reach within 4 mm of the sheet's left edge
        assert min(b[0] for b in before) < margin - 1
        for left, top, right, bottom in after:
            column = min(range(layout.columns), key=lambda c: abs(left - layout.box(c)[0] - layout.label_width / 2))
            x, y = layout.box(column)
            assert left >= x + margin - 0.3 and right <= x + layout.label_width - margin + 0.3, (kind, left, right)
            assert top >= y + margin - 0.3 and bottom <= y + layout.label_height - margin + 0.3, (kind, top, bottom)
        text = "".join(label_text(safe.getvalue(), layout))
        assert machine.asset_number in text  # everything still printed, only smaller
    with pytest.raises(ServiceError, match="安全边距"):
        printing.labels(machine.ledger, [machine], io.BytesIO(), layout, safe_margin=12)
    with pytest.raises(ServiceError, match="安全边距"):
        printing.labels(machine.ledger, [machine], io.BytesIO(), L.PRESETS["roll-50x30"], safe_margin=8)


def test_the_print_record_names_the_unit_and_margin(db, printing, machine, tmp_path):
    from mibao_desktop.services.audit_service import AuditFilter, AuditService

    printing.set_unit_name(UNIT)
    printing.labels(machine.ledger, [machine], tmp_path / "l.pdf", L.PRESETS["a4-3x8"], unit=True, safe_margin=3)
    entry = AuditService(db, Actor("shenji", Role.AUDITOR)).entries(AuditFilter(action="ledger.print"))[0]
    assert entry.detail["unit"] == UNIT and entry.detail["safe_margin_mm"] == 3


def test_the_command_line_prints_the_unit_name_and_a_safe_margin(tmp_path, capsys, monkeypatch):
    from mibao_desktop.db.database import Database
    from tests.test_cli import accounts_only, as_user, service_for

    passwords = accounts_only(tmp_path)
    machine = service_for(tmp_path).create("computers", computer(asset_number="JM-2024-001"))
    PrintService(Database.open(tmp_path / "mibao.sqlite"), Actor("baomi", Role.SECURITY_ADMIN)).set_unit_name(UNIT)
    out = tmp_path / "labels.pdf"
    assert as_user(monkeypatch, passwords, "baomi", "--data-dir", str(tmp_path), "labels", "computers", "-o", str(out),
                   "--kind", "reminder", "--unit", "--safe-margin", "4") == 0
    layout = L.PRESETS[L.DEFAULT_LAYOUT]
    lines = label_text(str(out), layout)
    assert any(UNIT in line for line in lines) and "".join(lines).count(machine.asset_number) == 1
    assert min(box[0] for box in printed_boxes(out.read_bytes(), layout)) >= 4 - 0.3
    assert as_user(monkeypatch, passwords, "baomi", "--data-dir", str(tmp_path), "labels", "computers", "-o", str(out),
                   "--safe-margin", "20") == 2
    assert "安全边距" in capsys.readouterr().err
