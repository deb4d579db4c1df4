"""A unit's own levels beyond the three (issue 18 item 5): 涉密专用, 内部 …, set by the security
administrator, ranked where they put them, never turned into one of the three; and the
人员名册's 岗位密级 beside its 涉密等级.

Service tests on the real database (a SQLite file; PostgreSQL with MIBAO_TEST_DATABASE), an
import of a workbook with 涉密专用 and 内部 rows, and the command line's --own-level."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mibao_desktop.db.database import Database
from mibao_desktop.db.models import AuditEntry
from mibao_desktop.errors import PermissionDenied, ValidationFailed
from mibao_desktop.excel.export import highest_level
from mibao_desktop.excel.importer import plan_import, run_import
from mibao_desktop.ledgers import LEDGERS, PEOPLE, levels
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.annual_figures import ledger_figures
from mibao_desktop.services.repository import LedgerQuery
from mibao_desktop.services.settings import SettingsService
from tests.conftest import computer
from tests.test_review_import import save

COMPUTERS, MEDIA, OFFICE = LEDGERS["computers"], LEDGERS["media"], LEDGERS["office_devices"]
BAOMI = Actor("baomi", Role.SECURITY_ADMIN)
OWN = ["绝密", "机密", "秘密", "涉密专用", "内部", "非涉密"]


@pytest.fixture(autouse=True)
def _three_again():
    """The unit's levels are the process's: the next test starts from the three, whatever it opens."""
    yield
    levels.use(levels.UnitLevels())


@pytest.fixture
def settings(db) -> SettingsService:
    return SettingsService(db, BAOMI)


def medium(number: str, level: str, **more) -> dict:
    return dict(asset_number=number, media_type="U盘", brand_model="金士顿 DT50", level=level,
                responsible_person="李娜", department="综合办公室", **more)


def test_a_unit_s_own_levels_are_kept_ranked_and_offered_where_they_fit(db, settings):
    assert MEDIA.level_field.choices == ("绝密", "机密", "秘密", "非涉密")
    settings.set_unit_levels(OWN, ["涉密专用"])
    # another opening of the same database reads them back (the desktop, the command line)
    levels.use(levels.UnitLevels())
    db.take_unit_levels()
    assert levels.unit().order == tuple(OWN) and levels.unit().classified == {"涉密专用"}
    # every choice list asks the one vocabulary: in the unit's order, where the ledger's kind takes it
    assert MEDIA.level_field.choices == tuple(OWN)
    assert COMPUTERS.level_field.choices == ("绝密", "机密", "秘密", "涉密专用")  # 内部 is no classified level
    assert levels.rank("秘密") > levels.rank("涉密专用") > levels.rank("内部") > levels.rank("非涉密")
    assert levels.highest(["内部", "涉密专用", "非涉密"]) == "涉密专用"
    assert levels.colour("涉密专用") == levels.OWN_COLOUR and levels.colour("机密") == levels.COLOURS["机密"]
    assert levels.marking_text("涉密专用") == "涉密专用"  # no ★: not a state secret
    with db.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "settings.change")).all()[-1]
    assert entry.target == "本单位密级" and entry.detail["changed"] == {
        "顺序": ["绝密、机密、秘密、非涉密", "、".join(OWN)], "按涉密管理": ["", "涉密专用"]}
    settings.set_unit_levels(["绝密", "机密", "秘密", "内部", "涉密专用", "非涉密"], ["涉密专用"])
    with db.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "settings.change")).all()[-1]
    assert list(entry.detail["changed"]) == ["顺序"]  # only what changed is said


def test_a_record_holds_its_own_level_as_written_and_reports_rank_it(db, service, settings):
    settings.add_unit_level("涉密专用", "秘密", classified=True)
    settings.add_unit_level("工作秘密", "涉密专用")  # 工作秘密 is 内部, one level
    assert levels.unit().order == tuple(OWN)
    for number, level in (("U-1", "涉密专用"), ("U-2", "内部"), ("U-3", "非涉密")):
        service.create(MEDIA, medium(number, level))
    stored = {r.number: r.values["level"] for r in service.query(MEDIA, LedgerQuery()).rows}
    assert stored == {"U-1": "涉密专用", "U-2": "内部", "U-3": "非涉密"}  # never turned into 秘密
    with service.stream(MEDIA, LedgerQuery()) as stream:
        assert highest_level(stream) == "涉密专用"  # the export's marking: the highest held, by rank
    figures = ledger_figures(db.session(), MEDIA, 2026)
    assert figures.levels == tuple(OWN)  # the annual 汇总 has a row for each
    assert figures.total("涉密专用") == 1 and figures.total("内部") == 1
    # a ledger of classified items takes 涉密专用 (managed as 涉密), not 内部
    service.create(COMPUTERS, computer(level="涉密专用"))
    with pytest.raises(ValidationFailed, match="不能用于此台账"):
        service.create(COMPUTERS, computer(asset_number="JM-0002", level="内部", serial_number="X2",
                                           disk_serials="WD-2", mac_addresses="00-1A-2B-3C-4D-02"))


def test_a_printer_serving_a_涉密专用_computer_is_a_classified_device_ranked_by_the_unit(service, settings):
    settings.set_unit_levels(OWN, ["涉密专用"])
    service.create(COMPUTERS, computer(level="涉密专用"))
    service.create(LEDGERS["unclassified_computers"], dict(
        asset_number="FM-0001", device_type="台式机", brand_model="联想", user="张伟", responsible_person="张伟",
        department="保密办", location="行政楼301", disk_serials="WD-F1", mac_addresses="00-1A-2B-3C-4D-F1"))
    printer = dict(asset_number="DY-1", device_type="打印机", brand_model="惠普", responsible_person="张伟",
                   department="保密办")
    with pytest.raises(ValidationFailed) as shared:
        service.create(OFFICE, {**printer, "level": "涉密专用", "connected_computers": "JM-0001；FM-0001"})
    assert "不得在涉密计算机与非涉密计算机之间共用" in str(shared.value)
    with pytest.raises(ValidationFailed, match="密级不能低于所连接的涉密计算机"):
        service.create(OFFICE, {**printer, "level": "内部", "connected_computers": "JM-0001"})
    service.create(OFFICE, {**printer, "level": "秘密", "connected_computers": "JM-0001"})  # higher is fine


def test_the_unit_s_levels_are_refused_out_of_place_and_kept_while_records_hold_them(db, service, settings):
    for order, classified, says in (
            (["绝密", "机密", "秘密", "公开", "非涉密"], [], "“公开”就是“非涉密”"),
            (["涉密专用", "绝密", "机密", "秘密", "非涉密"], ["涉密专用"], "只能排在绝密之下"),
            (["绝密", "秘密", "机密", "非涉密"], [], "且按此顺序"),
            (["绝密", "机密", "涉密专用", "秘密", "非涉密"], [], "应按涉密管理"),
            (["绝密", "机密", "秘密", "内部", "内部", "非涉密"], [], "重复")):
        with pytest.raises(ValidationFailed, match=says):
            settings.set_unit_levels(order, classified)
    with pytest.raises(PermissionDenied):
        SettingsService(db, Actor("shenji", Role.AUDITOR)).set_unit_levels(OWN)
    settings.set_unit_levels(OWN, ["涉密专用"])
    service.create(COMPUTERS, computer(level="涉密专用"))
    with pytest.raises(ValidationFailed, match="涉密计算机台账有 1 条记录为“涉密专用”"):
        settings.set_unit_levels(["绝密", "机密", "秘密", "内部", "非涉密"])  # taken away
    with pytest.raises(ValidationFailed, match="涉密计算机台账有 1 条记录为“涉密专用”"):
        settings.set_unit_levels(OWN)  # no longer 涉密, where a classified computer holds it
    assert levels.unit().order == tuple(OWN)


# -- an import with 涉密专用 and 内部 rows -------------------------------------------------------------


def media_book(path):
    return save(path, [
        ["编号", "介质类型", "品牌型号", "密级", "保管人", "部门"],
        ["U-01", "U盘", "金士顿 DT50", "秘密", "李娜", "综合办公室"],
        ["U-02", "U盘", "金士顿 DT50", "涉密专用", "李娜", "综合办公室"],
        ["U-03", "移动硬盘", "希捷 2TB", "内部", "赵强", "综合办公室"],
        ["U-04", "U盘", "朗科 U208", "涉密专用★", "赵强", "综合办公室"],
    ])


def test_an_import_refuses_a_level_the_unit_has_not_set_and_takes_it_once_set(service, settings, tmp_path):
    path = media_book(tmp_path / "介质台账.xlsx")
    report = run_import(service, plan_import(MEDIA, path))
    assert report.created == 1  # 秘密 alone: nothing read as one of the three
    assert report.unknown_levels == {"涉密专用": [3, 5], "内部": [4]}
    refused = {r.row: r.message for r in report.refused}
    assert set(refused) == {3, 4, 5} and "“涉密专用”不是本单位的密级" in refused[3] and "系统→本单位密级" in refused[3]
    settings.add_unit_level("涉密专用", "秘密", classified=True)
    settings.add_unit_level("内部", "涉密专用")
    report = run_import(service, plan_import(MEDIA, path))
    assert report.created == 3 and not report.unknown_levels
    assert [r.row for r in report.refused] == [2]  # U-01 came the first time
    stored = {r.number: r.values["level"] for r in service.query(MEDIA, LedgerQuery()).rows}
    assert stored == {"U-01": "秘密", "U-02": "涉密专用", "U-03": "内部", "U-04": "涉密专用"}


@pytest.mark.sqlite_only  # the command line on a --data-dir
def test_mibao_import_offers_and_takes_own_level(tmp_path, capsys, monkeypatch):
    from mibao_desktop.cli import main
    from tests.test_cli import accounts_only, as_user

    passwords = accounts_only(tmp_path)
    path = media_book(tmp_path / "介质台账.xlsx")
    # one run (a login costs seconds): 涉密专用 set by the option, 内部 offered
    assert as_user(monkeypatch, passwords, "baomi", "--data-dir", str(tmp_path), "import", "media", str(path),
                   "--own-level", "涉密专用:秘密:涉密") == 1
    out = capsys.readouterr().out
    assert "本单位的密级:绝密、机密、秘密、涉密专用、非涉密(按涉密管理:涉密专用)" in out
    assert "密级“内部”(第 4 行)不是本单位的密级,这些行未导入" in out and "--own-level 内部:秘密" in out
    assert "已导入 3 条;未导入 1 行" in out
    levels.use(levels.UnitLevels())
    Database.open(tmp_path / "mibao.sqlite").close()  # opening reads them back
    assert levels.unit().order == ("绝密", "机密", "秘密", "涉密专用", "非涉密")  # saved with the unit's settings


# -- the 人员名册: 涉密等级 and 岗位密级 ---------------------------------------------------------------


def test_people_are_graded_by_涉密等级_or_by_岗位密级_or_both(service, tmp_path):
    path = save(tmp_path / "涉密人员.xlsx", [
        ["姓 名", "部门", "涉密等级", "岗位密级"],
        ["陈明", "综合办公室", "核心涉密人员", "机密"],
        ["刘洋", "综合办公室", "一般", None],
        ["王芳", "机要室", "机密", None],  # graded by the post's level, under the grade's heading
        ["赵强", "机要室", "重点涉密人员", "秘密"],  # seed 003's word for 重要
        ["孙丽", "后勤处", None, None],  # no classified post
    ])
    report = run_import(service, plan_import(PEOPLE, path))
    assert not report.refused and report.created == 5
    got = {r.values["name"]: (r.values.get("grade"), r.values.get("post_level"))
           for r in service.query(PEOPLE, LedgerQuery()).rows}
    assert got == {"陈明": ("核心", "机密"), "刘洋": ("一般", None), "王芳": (None, "机密"),
                   "赵强": ("重要", "秘密"), "孙丽": (None, None)}
    assert any("“机密”是岗位密级,记入岗位密级" in n.message and n.row == 4 for n in report.notes)
    assert PEOPLE.level_field is None  # a person's 岗位密级 is no 密级 of the register (never 待补充)
    assert PEOPLE.field("post_level").choices == ("绝密", "机密", "秘密")


def test_a_carrier_check_report_is_marked_with_an_own_level_held(settings):
    from types import SimpleNamespace

    from mibao_desktop.excel.stocktake_report import _marking

    settings.set_unit_levels(OWN, ["涉密专用"])
    report = SimpleNamespace(lines=[SimpleNamespace(level=level) for level in ("内部", "涉密专用", None)])
    assert _marking(report) == "涉密专用"


def test_mibao_import_dry_run_reads_with_the_own_levels_and_saves_none(settings, capsys):
    from mibao_desktop.cli import _own_levels

    _own_levels(settings, ["涉密专用:秘密:涉密", "内部：涉密专用"], dry_run=True)
    assert levels.unit().order == tuple(OWN) and levels.unit().classified == {"涉密专用"}
    assert "本单位的密级(预览,未保存):绝密、机密、秘密、涉密专用、内部、非涉密" in capsys.readouterr().out
    assert settings.unit_levels() == levels.UnitLevels()  # nothing saved
    from mibao_desktop.excel.reader import SpreadsheetError

    with pytest.raises(SpreadsheetError, match="应写成 密级:排在其下的密级"):
        _own_levels(settings, ["涉密专用"], dry_run=True)


def test_a_level_a_person_s_post_holds_is_kept_too(db, service, settings):
    """岗位密级 is a Level field of the 人员名册 though not its register's 密级: a level a person's
    post holds may not be taken away either (the record would hold a level no longer known)."""
    settings.set_unit_levels(OWN, ["涉密专用"])
    person = service.create(PEOPLE, {"name": "王五", "department": "保密办", "post_level": "涉密专用"})
    with pytest.raises(ValidationFailed, match="人员名册有 1 条记录的岗位密级为“涉密专用”"):
        settings.set_unit_levels(["绝密", "机密", "秘密", "内部", "非涉密"])
    assert levels.unit().order == tuple(OWN)
    service.update(person.id, {"post_level": "秘密"})
    settings.set_unit_levels(["绝密", "机密", "秘密", "内部", "非涉密"])  # no one holds it now
