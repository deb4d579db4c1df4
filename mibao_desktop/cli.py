"""The ``mibao`` command: the desktop app, and the same core from a terminal.

    mibao [--data-dir D]                         start the desktop app
    mibao [--data-dir D] demo [--count N] [--if-empty]
    mibao [--data-dir D] export LEDGER OUT.xlsx [--search TEXT] [--include-voided]
    mibao [--data-dir D] import LEDGER IN.xlsx [--all-or-nothing]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mibao_desktop import __version__, paths
from mibao_desktop.ledgers import ALL_LEDGERS, get_ledger

EXIT_OK, EXIT_REFUSED, EXIT_ERROR = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    ledgers = ", ".join(f"{l.key}({l.noun})" for l in ALL_LEDGERS)
    parser = argparse.ArgumentParser(prog="mibao", description="密保 · 保密台账管理")
    parser.add_argument("--data-dir", help="数据文件夹(默认:MIBAO_DATA_DIR 或用户数据目录)")
    parser.add_argument("--version", action="version", version=f"mibao {__version__}")
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="生成演示数据")
    demo.add_argument("--scale", type=float, default=1.0, help="数量倍数(默认 1:约 300 台涉密计算机等)")
    demo.add_argument("--if-empty", action="store_true", help="数据库已有记录时什么也不做")
    export = sub.add_parser("export", help="导出台账到 Excel")
    export.add_argument("ledger", help=f"台账:{ledgers}")
    export.add_argument("output", type=Path)
    export.add_argument("--search", default="", help="只导出与搜索词匹配的记录")
    export.add_argument("--include-voided", action="store_true", help="包括已作废的记录")
    imp = sub.add_parser("import", help="从 Excel 或 csv 导入台账")
    imp.add_argument("ledger", help=f"台账:{ledgers}")
    imp.add_argument("input", type=Path)
    imp.add_argument("--all-or-nothing", action="store_true", help="有任何一行出错时一条也不导入")
    return parser


def _service(data_dir: Path):
    from mibao_desktop.db.database import Database
    from mibao_desktop.security import Actor
    from mibao_desktop.services.ledger_service import LedgerService

    return LedgerService(Database.open(paths.database_path(data_dir)), Actor.local_security_admin())


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    data_dir = paths.data_dir(args.data_dir)
    if args.command is None:
        from mibao_desktop.ui.app import run

        return run(data_dir)
    from mibao_desktop.db.database import DatabaseError
    from mibao_desktop.excel import SpreadsheetError
    from mibao_desktop.services.errors import ServiceError

    try:
        service = _service(data_dir)
        if args.command == "demo":
            return _demo(service, args)
        ledger = get_ledger(args.ledger)
        if args.command == "export":
            return _export(service, ledger, args)
        return _import(service, ledger, args)
    except (KeyError, SpreadsheetError, DatabaseError, ServiceError, OSError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        print(f"错误:{message}", file=sys.stderr)
        return EXIT_ERROR


def _demo(service, args) -> int:
    from mibao_desktop.demo import fill_demo

    existing = sum(service.count(l, _all()) for l in ALL_LEDGERS)
    if args.if_empty and existing:
        print(f"数据库已有 {existing} 条记录,未添加演示数据:{service.db.path}")
        return EXIT_OK
    made = fill_demo(service, scale=args.scale)
    for ledger in ALL_LEDGERS:
        print(f"{ledger.title}:新增 {made.get(ledger.key, 0)} 条")
    print(f"数据库:{service.db.path}")
    return EXIT_OK


def _all():
    from mibao_desktop.services.repository import LedgerQuery

    return LedgerQuery(include_voided=True)


def _export(service, ledger, args) -> int:
    from mibao_desktop.excel import export_ledger
    from mibao_desktop.services.repository import LedgerQuery

    query = LedgerQuery(text=args.search, include_voided=args.include_voided)
    count = export_ledger(service, ledger, args.output, query=query)
    print(f"exported {count} records to {args.output}")
    return EXIT_OK


def _import(service, ledger, args) -> int:
    from mibao_desktop.excel import import_ledger

    report = import_ledger(service, ledger, args.input, all_or_nothing=args.all_or_nothing)
    print(f"工作表“{report.sheet}”,表头在第 {report.header_row} 行;识别的列:{'、'.join(report.columns)}")
    for refused in report.refused:
        print(str(refused))
    if report.skipped_rows:
        print(f"已跳过非数据行(签字栏等):第 {'、'.join(map(str, report.skipped_rows))} 行")
    if args.all_or_nothing and report.refused:
        print("因有出错的行,按 --all-or-nothing 一条也未导入。")
    print(f"imported {report.created}, refused {report.refused_rows}")
    return EXIT_REFUSED if report.refused else EXIT_OK
