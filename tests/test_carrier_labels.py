"""Cover and sealed-envelope labels of a carrier's copies (issue 13 item 5; seed 002 §八): the
PDF is rendered through the print service, its text read back label by label, and each QR
code read back from the rendered page by a real scanner (zbarimg) and found by the check
session's reading of a scanned code."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from sqlalchemy import select

from mibao_desktop.db.models import AuditEntry
from mibao_desktop.errors import ServiceError
from mibao_desktop.printing import carrier_labels as CL, labels as L
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.carrier_checks import parse_code
from mibao_desktop.services.context import Services
from mibao_desktop.services.print_service import PrintService
from tests.test_labels_layout import label_text

UNIT = "某某市某某研究所"


@pytest.fixture
def printing(db):
    return PrintService(db, Actor("baomi", Role.SECURITY_ADMIN))


@pytest.fixture
def carrier(service):
    """ZT-2024-001, 机密★10年, three copies, the third held by 王芳."""
    result = service.create_many("carriers", [{
        "carrier_number": "ZT-2024-001", "title": "关于加强涉密载体管理工作的通知", "doc_number": "保字〔2024〕3号",
        "level": "机密★10年", "copies": 3, "keeper": "李娜", "department": "保密办",
        "_children": [{"copy_number": 1, "holder": "李娜"}, {"copy_number": 2, "holder": "李娜"},
                      {"copy_number": 3, "holder": "王芳"}]}])
    assert not result.refused, result.refused
    return service.find("carriers", "ZT-2024-001")


def scanned(pdf: bytes, tmp_path, top_mm: float) -> list[str]:
    """What a scanner reads off the printed page: the page's top ``top_mm`` rendered at 300 dpi,
    every QR code in it."""
    if shutil.which("zbarimg") is None or shutil.which("pdftoppm") is None:
        pytest.skip("zbarimg/pdftoppm not installed")
    source = tmp_path / "labels.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "300", "-f", "1", "-l", "1", "-x", "0", "-y", "0", "-W", "2480",
                    "-H", str(int(top_mm / 25.4 * 300)), str(source), str(tmp_path / "page")], check=True)
    page = next(tmp_path.glob("page*.png"))
    out = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(page)],
                         capture_output=True, text=True)
    return sorted(out.stdout.split())


def test_a_cover_label_per_copy_says_its_marking_copy_number_and_number_and_scans_back(
        printing, carrier, tmp_path):
    import io

    layout = L.PRESETS["a4-3x8"]
    marks = printing.copy_marks([carrier])
    buffer = io.BytesIO()
    drawn = printing.copy_labels(carrier.ledger, marks, buffer, layout, kind=CL.COVER_LABEL)
    pdf = buffer.getvalue()
    assert drawn == 3
    for position, copy in enumerate((1, 2, 3)):
        lines = label_text(pdf, layout, position)
        assert lines[0] == f"机密★10年第{copy}份", lines
        assert "编号:ZT-2024-001" in lines and "文号:保字〔2024〕3号" in lines and "共3份" in lines
        assert any(line.startswith("标题:关于加强") for line in lines)
    assert label_text(pdf, layout, 3) == []  # nothing beyond the three copies
    codes = scanned(pdf, tmp_path, 40)  # the first row of labels
    assert codes == ["ZT-2024-001#1", "ZT-2024-001#2", "ZT-2024-001#3"]
    assert ("ZT-2024-001", 2) in parse_code(codes[1])  # as a check session reads the scan


def test_the_marking_is_the_carrier_s_inherited_and_a_period_not_set_is_the_statutory_one(
        printing, service, carrier, tmp_path):
    import io

    layout = L.PRESETS["roll-60x40"]
    service.update(carrier.id, {"level": "绝密", "secrecy_period": None}, reason="定密调整")
    copy = service.children(carrier.id)[0]
    buffer = io.BytesIO()
    printing.copy_labels(carrier.ledger, printing.copy_marks([copy]), buffer, layout)
    assert label_text(buffer.getvalue(), layout)[0] == "绝密★30年第1份"
    assert CL.marking("秘密", 9999) == "秘密★长期" and CL.marking("机密", None) == "机密★20年"


def test_the_sealed_envelope_label_says_level_number_receiver_and_sender(printing, service, carrier, tmp_path):
    import io

    printing.set_unit_name(UNIT)
    copies = service.children(carrier.id)
    Services(service.db, service.actor).carrier_actions.distribute(
        [copies[1].id], {"recipient_unit": "上级保密办", "approver": "刘局长"})
    layout = L.PRESETS["a4-2x5"]
    buffer = io.BytesIO()
    printing.copy_labels(carrier.ledger, printing.copy_marks(copies, envelope=True), buffer, layout,
                         kind=CL.ENVELOPE_LABEL)
    pdf = buffer.getvalue()
    first, second = label_text(pdf, layout, 0), label_text(pdf, layout, 1)
    assert first[0] == "机密密封"  # the level large, 密封 set apart beside it
    assert "编号:ZT-2024-001第1份" in first and f"发件单位:{UNIT}" in first
    assert "收件单位:" in first  # no receiver known: a line to write on
    assert "收件单位:上级保密办" in second  # the unit copy 2 was 分发 to
    assert len(scanned(pdf, tmp_path, 130)) == 3  # the first two rows

    buffer = io.BytesIO()  # a receiver typed for the run, and a sender
    printing.copy_labels(carrier.ledger, printing.copy_marks([carrier], envelope=True, receiver="某某研究院",
                                                             sender="本单位机要室", only=[3]),
                         buffer, layout, kind=CL.ENVELOPE_LABEL)
    lines = label_text(buffer.getvalue(), layout, 0)
    assert "编号:ZT-2024-001第3份" in lines and "收件单位:某某研究院" in lines and "发件单位:本单位机要室" in lines
    assert label_text(buffer.getvalue(), layout, 1) == []


def test_seal_strips_for_the_flap_and_the_seam_say_密封_the_number_and_the_day(printing, db, carrier, tmp_path):
    import datetime as dt
    import io

    printing.clock = lambda: dt.datetime(2026, 11, 30, 9, 0)
    layout = L.PRESETS["a4-3x8"]
    buffer = io.BytesIO()
    drawn = printing.copy_labels(carrier.ledger, printing.copy_marks([carrier], only=[2]), buffer, layout,
                                 kind=CL.SEAL_STRIP, copies=2)
    assert drawn == 2
    for position in (0, 1):  # 封口 and 中缝
        lines = label_text(buffer.getvalue(), layout, position)
        # (密 and 封 stand wide apart: the text reads them as two columns, around the date)
        assert lines[0] == "机密ZT-2024-001第2份" and {"密", "封", "封装人:"} <= set(lines), lines
        assert "封装日期:2026年11月30日" in lines
    with db.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "ledger.print")).one()
    assert (entry.detail["what"], entry.detail["sealed_on"]) == ("密封条", "2026年11月30日")


def test_the_print_is_recorded_with_each_copy_and_closed_copies_are_not_labelled(
        db, printing, service, carrier, tmp_path):
    copies = service.children(carrier.id)
    Services(service.db, service.actor).carrier_actions.clear(
        [copies[0].id], {"returned_to": "上级机关", "approver": "刘局长", "reason": "清退至发文机关"})
    out = tmp_path / "封面.pdf"
    printing.copy_labels(carrier.ledger, printing.copy_marks([carrier]), out, L.PRESETS["a4-3x8"])
    with db.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "ledger.print")
                          .order_by(AuditEntry.id.desc())).first()
    assert entry.detail["what"] == "载体封面标识"
    assert entry.detail["copies"] == ["ZT-2024-001#2", "ZT-2024-001#3"]  # copy 1 went back to its issuer
    with pytest.raises(ServiceError, match="份号为 7 的载体份"):
        printing.copy_marks([carrier], only=[7])


def test_the_command_line_prints_envelope_labels_for_chosen_copies(tmp_path, capsys, monkeypatch):
    from tests.test_cli import accounts_only, as_user, service_for

    data = tmp_path / "data"
    data.mkdir()
    passwords = accounts_only(data)
    service = service_for(data)
    made = service.create_many("carriers", [{
        "carrier_number": "ZT-9", "title": "通知", "level": "秘密", "copies": 5, "keeper": "李娜", "department": "保密办",
        "_children": [{"copy_number": n} for n in range(1, 6)]}])
    assert not made.refused, made.refused
    service.db.close()
    out = tmp_path / "信封.pdf"
    assert as_user(monkeypatch, passwords, "baomi", "--data-dir", str(data), "labels", "carriers", "-o", str(out),
                   "--ids", "ZT-9", "--kind", "envelope", "--copy-numbers", "2-3", "--receiver", "某某研究院",
                   "--layout", "a4-2x5") == 0
    assert "已为 2 份载体生成 2 张密封信封标识" in capsys.readouterr().out
    layout = L.PRESETS["a4-2x5"]
    assert "编号:ZT-9第2份" in label_text(str(out), layout, 0)
    assert "收件单位:某某研究院" in label_text(str(out), layout, 1)
    assert as_user(monkeypatch, passwords, "baomi", "--data-dir", str(data), "labels", "carriers", "-o", str(out),
                   "--ids", "ZT-9", "--kind", "cover", "--copy-numbers", "3-1") == 2
    assert "前大后小" in capsys.readouterr().err


def test_envelope_receivers_are_read_together_not_copy_by_copy(printing, service, db):
    """The print dialog's preview asks for the marks on the UI thread at each change: each
    copy's 收件单位 (the unit it was last 分发 to) is read for all copies in a few queries, not
    through each copy's whole history (300 copies took 2.9 s that way)."""
    from sqlalchemy import event

    made = service.create_many("carriers", [{
        "carrier_number": "ZT-2024-060", "title": "通知", "level": "秘密", "copies": 60, "keeper": "李娜", "department": "保密办",
        "_children": [{"copy_number": n, "holder": "李娜"} for n in range(1, 61)]}])
    assert not made.refused, made.refused
    carrier = service.find("carriers", "ZT-2024-060")
    copies = service.children(carrier.id)
    actions = Services(service.db, service.actor).carrier_actions
    actions.distribute([c.id for c in copies[:30]], {"recipient_unit": "上级保密办", "approver": "刘局长"})
    actions.give_back([copies[0].id])
    actions.distribute([copies[0].id], {"recipient": "李娜", "approver": "刘局长"})  # the last 分发 counts
    statements = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        marks = printing.copy_marks([carrier], envelope=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert [m.receiver for m in marks] == ["李娜", *["上级保密办"] * 29, *[""] * 30]
    assert len(statements) < 20, len(statements)
