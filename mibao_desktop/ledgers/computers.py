"""Classified and unclassified computers (涉密计算机 / 非涉密计算机), seed 002 §七.

Both ledgers are built from one field list: the classified one adds 密级, 定密时间 and the
protection installed; the unclassified one has no level and its own network choices.
"""

from __future__ import annotations

from mibao_desktop.ledgers import common
from mibao_desktop.ledgers.declaration import DEVICE_LIFECYCLE, LabelSpec, Ledger
from mibao_desktop.ledgers.fields import Choice, Field, MacAddress, Text

OPERATING_SYSTEMS = ("Windows 7", "Windows 10", "Windows 11", "银河麒麟", "中标麒麟", "统信UOS", "Linux")
PROTECTION_PRODUCTS = ("三合一", "主机审计", "身份鉴别", "防病毒", "移动介质管控", "打印审计")


def _computer_fields(*, classified: bool) -> tuple[Field, ...]:
    level_fields = (common.level(), common.classified_on()) if classified else ()
    networks = ("单机", "涉密网") if classified else ("互联网", "非涉密内网", "单机")
    protection = (
        (Field("protection", "安全防护", Choice(PROTECTION_PRODUCTS, open_list=True), many=True,
               shown=False, synonyms=("防护措施", "安全保密产品", "安装防护软件")),)
        if classified else ()
    )
    return (
        common.asset_number(),
        Field("device_type", "设备类型", Choice(("台式机", "便携机", "服务器")), required=True,
              default="台式机", searchable=True, synonyms=("类型", "设备种类", "计算机类型")),
        common.brand_model(),
        common.serial_number("机器序列号"),
        *level_fields,
        Field("user", "使用人", Text(max_length=20), required=True, searchable=True,
              synonyms=("使用者", "使用人员")),
        common.responsible_person(),
        common.department(),
        Field("disk_serials", "硬盘序列号", Text(max_length=60, upper=True), required=True,
              unique=True, many=True, searchable=True,
              synonyms=("硬盘序号", "硬盘编号", "硬盘SN", "硬盘序列号码")),
        Field("mac_addresses", "MAC地址", MacAddress(), required=True, unique=True, many=True,
              searchable=True, synonyms=("MAC", "物理地址", "网卡地址", "网卡MAC", "MAC 地址")),
        Field("os", "操作系统", Choice(OPERATING_SYSTEMS, open_list=True), shown=False,
              synonyms=("系统", "操作系统版本")),
        common.location(),
        Field("purpose", "用途", Text(max_length=60), shown=False, synonyms=("主要用途",)),
        Field("network", "联网情况", Choice(networks), required=True, default=networks[0],
              synonyms=("联网类型", "网络", "接入网络")),
        *protection,
        common.start_date(),
        common.status(DEVICE_LIFECYCLE),
        common.remarks(),
    )


CLASSIFIED_COMPUTERS = Ledger(
    key="computers",
    title="涉密计算机台账",
    noun="涉密计算机",
    fields=_computer_fields(classified=True),
    lifecycle=DEVICE_LIFECYCLE,
    unique_scope="computers",
    aliases=("classified_computers", "涉密计算机"),
    label=LabelSpec("涉密计算机", "涉密计算机严禁接入互联网及其他公共信息网络"),
)

UNCLASSIFIED_COMPUTERS = Ledger(
    key="unclassified_computers",
    title="非涉密计算机台账",
    noun="非涉密计算机",
    fields=_computer_fields(classified=False),
    lifecycle=DEVICE_LIFECYCLE,
    unique_scope="computers",
    aliases=("非涉密计算机",),
    label=LabelSpec("非涉密计算机", "禁止处理涉密信息", level_field=None,
                    lines=("asset_number", "responsible_person", "department")),
)
