"""The 脱密期 (decommissioning period) of a person who leaves a classified post.

Seed 003 涉密人员管理制度 第七条: "涉密人员辞职、调动,需进行脱密期管理。脱密期一般为6个月至3年。"
The seeds give no length per grade; the common practice (核心 2–3 years, 重要 1–2 years, 一般
6 months to 1 year) is taken at its upper end as the unit's default, a setting the security
administrator may change within the seed's bounds (``services/departure.py``). The period is
stored on the person as its first and last day, so that the people whose period has ended are
one index range (the move to 已脱密 at each start and by ``mibao decommission-check``).
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any, Iterator

from mibao_desktop.ledgers.fields import Date, Field

MIN_MONTHS, MAX_MONTHS = 6, 36  # 6个月至3年
DEFAULT_MONTHS = {"核心": 36, "重要": 24, "一般": 12}
SETTING = "decommission_months"  # the unit's months per grade
SETTING_LABEL = "脱密期"

# Set by the departure (services/departure.py); editable and imported too, so that a unit's own
# staff ledger brings the periods it already runs, and a wrong date can be corrected (with history)
FROM = Field("decommission_from", "脱密期开始", Date(), synonyms=("脱密期起始日期", "脱密开始日期", "脱密期起"),
             help="离岗离职办理完毕之日起算")
UNTIL = Field("decommission_until", "脱密期截止", Date(not_future=False),
              synonyms=("脱密期截止日期", "脱密期满日期", "脱密期至", "脱密结束日期"),
              help="按涉密等级的脱密期计算;到期后转为已脱密")


def end_of(start: dt.date, months: int) -> dt.date:
    """The last day of a period of ``months`` from ``start``, the start counted (6 months from
    2026-03-01 end on 2026-08-31). When the same date months later does not exist the period
    runs to the end of that month: from 2026-08-31 (or 08-29, 08-30) it ends on 2027-02-28, not
    02-27, which would make the 脱密期 shorter than its months (seed 003 第七条)."""
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    if start.day > calendar.monthrange(year, month)[1]:  # no such day: the period fills the month
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    return dt.date(year, month, start.day) - dt.timedelta(days=1)


def months_text(months: int) -> str:
    """36 → 3年, 18 → 1年6个月, 6 → 6个月"""
    years, rest = divmod(months, 12)
    return (f"{years}年" if years else "") + (f"{rest}个月" if rest else "")


def sample_rows(ctx: Any) -> Iterator[dict]:
    """Two who left a classified post, for the demo (the register's sample rows end with them,
    numbered apart: RY-9001, RY-9002): one still in the 脱密期, its end ahead, and one whose
    period ended (已脱密)."""
    from mibao_desktop.ledgers import samples

    today = dt.date.today()
    for number, name, post, grade, days, status in (("RY-9001", "周建国", "机要员", "核心", 200, "脱密期"),
                                                      ("RY-9002", "吴秀兰", "文书", "一般", 500, "已脱密")):
        start = today - dt.timedelta(days=days)
        yield {"person_number": number, "name": name, "department": ctx.rng.choice(samples.DEPARTMENTS),
               "post": post, "grade": grade, "status": status, FROM.name: start.isoformat(),
               UNTIL.name: end_of(start, DEFAULT_MONTHS[grade]).isoformat()}
