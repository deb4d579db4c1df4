"""The 保密承诺书 (seed 003 涉密人员管理制度 附件) filled from a person of the staff ledger, printed
to PDF and read back (issue 14 item 7)."""

from __future__ import annotations

import subprocess

from mibao_desktop.printing.templates import COMMITMENT_INTRO, COMMITMENT_ITEMS
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.print_service import PrintService

from tests.test_printing import pdftotext
from tests.test_staff import ID_2, ID_X, staff


def test_the_commitment_is_filled_from_the_persons_record(service, db, tmp_path):
    person = service.create("people", staff(name="李敏", department="保密办", post="机要员", grade="核心",
                                            post_level="机密", commitment_signed_on="2020-03-01"))
    printing = PrintService(db, Actor("baomi", Role.SECURITY_ADMIN))
    printing.set_unit_name("某研究所")
    out = tmp_path / "commitment.pdf"
    assert printing.form("commitment", person.ledger, [person], out) == 1
    text = pdftotext(out).replace(" ", "")
    for word in ("保密承诺书", "单位:某研究所", "李敏", "保密办", "机要员", "核心", "机密",
                 ID_X,  # whole: the unit files the signed form with the number
                 "2020年03月01日", "承诺人(签字)", "违反以上承诺,自愿承担党纪、政纪责任和法律后果。"):
        assert word in text, word
    # the seed's own text, every clause of it (the PDF breaks lines where it must)
    flat = text.replace("\n", "")
    for clause in (COMMITMENT_INTRO, *COMMITMENT_ITEMS):
        for part in clause.replace(":", ",").replace("。", ",").replace(";", ",").split(","):
            assert part.replace(" ", "") in flat, part
    assert "不提供虚假个人信息,自愿接受保密审查" in flat and "懂保密、会保密、善保密" in flat


def test_a_commitment_not_yet_signed_leaves_the_date_to_write(service, db, tmp_path):
    person = service.create("people", staff(commitment_signed_on=None))
    out = tmp_path / "c.pdf"
    PrintService(db, Actor("baomi", Role.SECURITY_ADMIN)).form("commitment", person.ledger, [person], out)
    text = pdftotext(out)
    assert "年    月    日" in text and "2020年03月01日" not in text


def test_the_commitment_of_several_people_prints_a_filled_page_each(service, db, tmp_path):
    """Selected together (the unit's yearly signing), each person gets their own 保密承诺书,
    filled with their name, post, number and date — not the first person's on every page."""
    first = service.create("people", staff(name="李敏", post="机要员", commitment_signed_on="2020-03-01"))
    second = service.create("people", staff(name="王强", id_number=ID_2, department="科研二处", post="档案管理员",
                                            grade="一般", commitment_signed_on="2021-04-02"))
    out = tmp_path / "two.pdf"
    assert PrintService(db, Actor("baomi", Role.SECURITY_ADMIN)).form(
        "commitment", first.ledger, [first, second], out) == 2
    pages = [subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), "-layout", str(out), "-"],
                            capture_output=True, text=True, check=True).stdout.replace(" ", "") for n in (1, 2)]
    assert all("保密承诺书" in p and "(续)" not in p and "承诺人(签字)" in p for p in pages)
    assert "李敏" in pages[0] and ID_X in pages[0] and "2020年03月01日" in pages[0] and "王强" not in pages[0]
    assert ("王强" in pages[1] and ID_2 in pages[1] and "科研二处" in pages[1] and "档案管理员" in pages[1]
            and "2021年04月02日" in pages[1] and "李敏" not in pages[1])
