"""Fields that many ledgers share, so that no ledger copies another's declaration."""

from __future__ import annotations

from mibao_desktop.ledgers import levels
from mibao_desktop.ledgers.declaration import Lifecycle
from mibao_desktop.ledgers.fields import Choice, Date, Field, Level, Person, Text


def asset_number(label: str = "设备编号", *, carries: tuple[str, ...] = ()) -> Field:
    return Field(
        "asset_number", label, Text(max_length=40, upper=True),
        required=True, unique=True, searchable=True, carries=carries,
        synonyms=("编号", "设备编号", "资产编号", "固定资产编号", "统一编号", "介质编号", "保密编号", "保密统一编号",
                  "资产号"),
    )


def level(*, with_unclassified: bool = False, period_field: str | None = None) -> Field:
    allowed = levels.DEVICE_LEVELS if with_unclassified else levels.LEVELS
    return Field("level", "密级", Level(allowed, period_field=period_field), required=True, facet=True,
                 synonyms=("密 级", "涉密等级", "密级程度"))


def classified_on() -> Field:
    return Field("classified_on", "定密时间", Date(), required=True, synonyms=("定密日期", "定密时间"))


def brand_model() -> Field:
    return Field(
        "brand_model", "品牌型号", Text(max_length=60), required=True, searchable=True,
        synonyms=("品牌", "型号", "品牌及型号", "品牌/型号", "设备型号"),
    )


def serial_number(label: str = "序列号") -> Field:
    return Field(
        "serial_number", label, Text(max_length=60, upper=True), unique=True, searchable=True,
        synonyms=("序列号", "机器序列号", "整机序列号", "主机序列号", "SN", "S/N", "出厂编号"),
    )


def responsible_person() -> Field:
    return Field(
        "responsible_person", "责任人", Person(in_charge=True), required=True, searchable=True,
        synonyms=("责任人", "保管人", "管理人", "负责人", "使用人", "使用者", "保管责任人", "责任人姓名"),
    )


def user() -> Field:
    return Field("user", "使用人", Person(in_charge=True), required=True, searchable=True,
                 synonyms=("使用者", "使用人员", "使用人姓名", "用户"))


def department(*, required: bool = True) -> Field:
    return Field(
        "department", "部门", Text(max_length=40), required=required, searchable=True, facet=True, coded=True, pinyin_sort=True,
        synonyms=("所在部门", "使用部门", "责任部门", "处室", "科室", "部门名称", "科室/课题组", "课题组",
                  "部门/科室", "科室/部门", "所属部门", "单位/部门", "使用单位", "部门(单位)"),
    )


def location(label: str = "放置地点") -> Field:
    return Field(
        "location", label, Text(max_length=60), searchable=True,
        synonyms=("放置地点", "存放地点", "安放地点", "位置", "存放位置", "放置位置", "安装地点", "使用地点"),
    )


def start_date() -> Field:
    return Field("start_date", "启用日期", Date(), in_service=True,
                 synonyms=("启用时间", "使用日期", "购置日期", "登记日期", "开始使用时间", "投入使用时间", "配发日期"))


def status(lifecycle: Lifecycle) -> Field:
    return Field(
        "status", "状态", Choice(lifecycle.statuses), required=True, editable=False, facet=True,
        default=lifecycle.initial, synonyms=("使用状态", "设备状态", "使用情况", "状况", "当前状态"),
    )


def remarks() -> Field:
    return Field("remarks", "备注", Text(max_length=500, multiline=True), searchable=True, shown=False,
                 synonyms=("说明", "备注说明"))
