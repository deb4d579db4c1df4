"""What sample rows (演示数据) are made of: Chinese names, departments, places and dates.

Each ledger's declaration brings its own sample rows built from these; the demo
(``mibao_desktop.demo``) registers them through the services like any other write.
"""

from __future__ import annotations

import datetime as dt
import random

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰春晓鹏飞宇浩然欣怡子涵"
DEPARTMENTS = ("保密办", "办公室", "科研一处", "科研二处", "科研三处", "财务处", "人事处", "后勤保障处", "信息中心", "档案室")
BUILDINGS = ("行政楼", "科研楼A座", "科研楼B座", "综合楼")


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")


def room(rng: random.Random) -> str:
    return f"{rng.choice(BUILDINGS)}{rng.randint(1, 6)}{rng.randint(1, 30):02d}室"


def past_date(rng: random.Random, years_back: int = 10) -> str:
    day = dt.date.today() - dt.timedelta(days=rng.randint(30, 365 * years_back))
    return day.isoformat()
