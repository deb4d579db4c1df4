"""The ``mibao`` command: the desktop app, and the same core from a terminal.

    mibao [--data-dir D]                                   start the desktop app
    mibao [--data-dir D] demo [--scale X] [--if-empty]     sample data (and demo accounts)
    mibao [--data-dir D] --user U export LEDGER OUT.xlsx [--search TEXT] [--include-voided]
    mibao [--data-dir D] --user U import LEDGER IN.xlsx [--all-or-nothing] [--dry-run] [--sheet S]
                                     [--include-flagged] [--refused OUT.xlsx]
                                     [--pending 字段 …] [--fill 字段=值 …] [--fill-from 字段=列名 …]
        exit 0: every row imported; 1: rows not imported (each named); 2: the import failed
    mibao [--data-dir D] --user U audit verify [--anchor N:HASH …] | audit export OUT.xlsx [--marking 内部]
    mibao [--data-dir D] --user U labels LEDGER -o OUT.pdf [--ids A B …] [--layout NAME] [--start N]
    mibao [--data-dir D] --user U form NAME --id ASSET -o OUT.pdf
    mibao [--data-dir D] --user U backup
    mibao [--data-dir D] --user U report annual --year Y -o OUT.xlsx [--marking 机密]   (安全保密管理员)
    mibao [--data-dir D] --user U accounts list | create NAME 姓名 工号 | set-id NAME 工号 | reset NAME | disable NAME
                                       | unlock NAME                  (系统管理员)
    mibao [--data-dir D] --user U accounts pending | grant NAME 角色   (安全保密管理员)
    mibao [--data-dir D] --user U passwd                              (修改自己的口令)
    mibao [--data-dir D] --user U restore FILE [--yes] [--unregistered]

Commands that read or change data log in as ``--user``; the password comes from the
``MIBAO_PASSWORD`` environment variable or is asked for without echo; a new or temporary
password (create, reset, passwd) from ``MIBAO_NEW_PASSWORD`` or asked for twice.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mibao_desktop import __version__, files, paths

EXIT_OK, EXIT_REFUSED, EXIT_ERROR = 0, 1, 2

# argparse's own words (its usage line, its headings, its errors) in Chinese: Python ships no
# Chinese catalogue for them, and "error: the following arguments are required" was the one
# English sentence a user of the command line met. argparse looks each up through its module's
# ``_`` when it says it; a text not listed here (a later Python's new wording) stays as it is.
_ARGPARSE_WORDS = {
    "usage: ": "用法:",
    "positional arguments": "位置参数",
    "options": "选项",
    "show this help message and exit": "显示本帮助并退出",
    "show program's version number and exit": "显示版本号并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s:错误:%(message)s(用 -h 查看用法)\n",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s:%(message)s",
    "the following arguments are required: %s": "缺少以下参数:%s",
    "unrecognized arguments: %s": "无法识别的参数:%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "“%(value)s”不是可选的值(可选:%(choices)s)",
    "invalid %(type)s value: %(value)r": "“%(value)s”不是有效的值",
    "expected one argument": "需要一个值",
    "expected at most one argument": "最多一个值",
    "expected at least one argument": "至少需要一个值",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "one of the arguments %s is required": "需要参数 %s 之一",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 不明确,可能是 %(matches)s",
    "ignored explicit argument %r": "多余的值 %r",
}


def _argparse_in_chinese() -> None:
    import gettext

    argparse._ = lambda text: _ARGPARSE_WORDS.get(text) or gettext.gettext(text)  # type: ignore[attr-defined]


def _parser() -> argparse.ArgumentParser:
    _argparse_in_chinese()
    from mibao_desktop.ledgers import ALL_LEDGERS, levels
    from mibao_desktop.security import Role

    ledgers = ", ".join(f"{l.key}({l.noun})" for l in ALL_LEDGERS)
    parser = argparse.ArgumentParser(prog="mibao", description="密保 · 保密台账管理")
    parser.add_argument("--data-dir", help="数据文件夹(默认:MIBAO_DATA_DIR 或用户数据目录)")
    parser.add_argument("--database", help="PostgreSQL 数据库(postgresql://用户@服务器/库名);"
                                           "默认为数据文件夹中的 database.ini 所指,或其中的 SQLite 文件")
    parser.add_argument("--user", help="用户名(口令取自 MIBAO_PASSWORD,或在提示时输入)")
    parser.add_argument("--version", action="version", version=f"mibao {__version__}")
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="生成演示数据(空数据库时同时建立演示账户)")
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
    imp.add_argument("--dry-run", action="store_true", help="只检查,不导入(预览)")
    imp.add_argument("--sheet", help="导入指定名称的工作表(默认:最像该台账的一张)")
    imp.add_argument("--include-flagged", action="store_true",
                     help="也导入有删除线的行和小计/合计行(默认不导入,并逐行列出)")
    imp.add_argument("--refused", type=Path, metavar="OUT.xlsx",
                     help="把未导入的行连同原因写入此文件,改正后可再次导入")
    imp.add_argument("--pending", action="append", default=[], metavar="字段",
                     help="表中没有这一必填列:留空,记录标为“待补充”(不指定时的做法)")
    imp.add_argument("--fill", action="append", default=[], metavar="字段=值",
                     help="表中没有这一必填列:每一行都填这个值,如 --fill 定密时间=2020-01-01")
    imp.add_argument("--fill-from", action="append", default=[], metavar="字段=列名",
                     help="表中没有这一必填列:取自另一列,如 --fill-from 定密时间=启用时间")
    imp.add_argument("--own-level", action="append", default=[], metavar="密级:排在其下的密级[:涉密]",
                     help="先把文件中的本单位密级(三级以外的,如涉密专用、内部)设为本单位的密级,排在指定密级之下;"
                          "按涉密管理的加“:涉密”,如 --own-level 涉密专用:秘密:涉密 --own-level 内部:涉密专用")
    imp.epilog = ("退出码:0 全部导入;1 有行未导入(逐行列出原因);2 导入失败(文件无法读取等)。"
                  "表中没有的必填列不指定做法时,照样导入,记录标为“待补充”")
    aud = sub.add_parser("audit", help="审计日志(安全审计员)")
    aud_sub = aud.add_subparsers(dest="audit_command", required=True)
    aud_verify = aud_sub.add_parser("verify", help="校验审计日志是否完整")
    aud_verify.add_argument("--anchor", action="append", default=[], metavar="N:HASH",
                            help="核对凭证:导出文件、打印件页脚或备份登记上的“审计链头 序号:校验值前16位”(可重复)")
    aud_export = aud_sub.add_parser("export", help="导出审计日志到 Excel")
    aud_export.add_argument("output", type=Path)
    aud_export.add_argument("--marking", default=levels.WORK_SECRET, metavar="密级标志",
                            help=f"印在工作表和每页页眉页脚上的密级标志:{'、'.join(levels.markings())}"
                                 f"(默认:{levels.WORK_SECRET})")
    from mibao_desktop.printing.labels import DEFAULT_LAYOUT, PRESETS
    from mibao_desktop.printing.templates import FORM_TEMPLATES

    lab = sub.add_parser("labels", help="打印标识(生成 PDF)")
    lab.add_argument("ledger", help=f"台账:{ledgers}")
    lab.add_argument("-o", "--output", type=Path, required=True)
    lab.add_argument("--ids", nargs="+", default=[], help="设备编号(默认:全部在册记录)")
    lab.add_argument("--layout", default=DEFAULT_LAYOUT, choices=sorted(PRESETS),
                     help="版式:" + ";".join(f"{k}={v.title}" for k, v in PRESETS.items()))
    lab.add_argument("--start", type=int, default=1, help="从标签纸的第几个位置开始(用过一部分的纸)")
    lab.add_argument("--copies", type=int, default=1, help="每条记录打印几张")
    lab.add_argument("--kind", default="level", choices=("level", "reminder", "cover", "envelope", "seal"),
                     help="level=密级标识,reminder=保密提醒标识;载体的每一份:cover=封面标识(密级★期限、份号、编号、二维码),"
                          "envelope=密封信封标识(密级、编号、收发件单位),seal=密封条(封口、中缝处,加 --copies 2)")
    lab.add_argument("--copy-numbers", default="", metavar="份号",
                     help="cover/envelope/seal:只打印这些份号(如 1-5、1、3、7;默认:在管的各份)")
    lab.add_argument("--receiver", default="", help="envelope:收件单位(默认:该份最近一次分发的接收单位,没有时留空手写)")
    lab.add_argument("--sender", default="", help="envelope:发件单位(默认:打印设置中的单位名称)")
    lab.add_argument("--unit", action="store_true", help="在标识上印单位名称(打印设置中的单位名称)")
    lab.add_argument("--safe-margin", type=float, default=0.0, metavar="MM",
                     help="安全边距(毫米,0-8):打印机印不到纸边时,标识内容离标签四边留出的空白")
    frm = sub.add_parser("form", help="打印审批表(生成 PDF)")
    frm.add_argument("name", choices=sorted(FORM_TEMPLATES),
                     help=";".join(f"{k}={t.title}" for k, t in FORM_TEMPLATES.items()))
    frm.add_argument("--id", dest="ids", action="append", default=[], help="设备编号(可重复)")
    frm.add_argument("-o", "--output", type=Path, required=True)
    sub.add_parser("backup", help="立即备份数据库")
    acc = sub.add_parser("accounts", help="账户:系统管理员新建、重置、停用、解锁;安全保密管理员授予角色")
    acc_sub = acc.add_subparsers(dest="accounts_command", required=True)
    acc_sub.add_parser("list", help="列出全部账户(系统管理员)")
    create = acc_sub.add_parser("create", help="新建账户(无角色,须经安全保密管理员授权后才能登录)")
    create.add_argument("name", help="用户名")
    create.add_argument("display_name", help="姓名")
    create.add_argument("person_id", help="工号或身份证号")
    set_id = acc_sub.add_parser("set-id", help="登记工号(早先建立、尚无工号的账户;登记后不能更改)")
    set_id.add_argument("name", help="用户名")
    set_id.add_argument("person_id", help="工号或身份证号")
    for verb, text in (("reset", "重置口令(本人下次登录时须修改)"), ("disable", "停用账户"), ("unlock", "解锁账户")):
        acc_sub.add_parser(verb, help=text).add_argument("name", help="用户名")
    acc_sub.add_parser("pending", help="列出待授权和已停用的账户(安全保密管理员)")
    grant = acc_sub.add_parser("grant", help="授予角色并启用(安全保密管理员)")
    grant.add_argument("name", help="用户名")
    grant.add_argument("role", choices=[r.value for r in Role], help="角色")
    sub.add_parser("passwd", help="修改自己的口令")
    sub.add_parser("missing-check",
                   help="下落不明的载体查找期满的按泄密事件处理(开立泄密事件),并列出下落不明、逾期未还的载体和未结的泄密事件")
    due = sub.add_parser("due", help="列出已逾期和 30 日内到期的事项(首页的清单,每项一行;按登录角色)")
    due.add_argument("--as-of", type=_as_of, default=None, metavar="YYYY-MM-DD", help="按该日查看(默认今天)")
    rep = sub.add_parser("report", help="报表(安全保密管理员)")
    rep_sub = rep.add_subparsers(dest="report_command", required=True)
    annual = rep_sub.add_parser("annual", help="年度报表(汇总、载体、培训学时、自查自评、各台账、本年变更)")
    annual.add_argument("--year", type=int, required=True, help="年度,如 2026")
    annual.add_argument("-o", "--output", type=Path, required=True)
    annual.add_argument("--marking", default=None, help="密级标志(默认为报表所列记录的最高密级)")
    sub.add_parser("decommission-check",
                   help="脱密期已满的人员转为已脱密(记入其历史),并列出脱密期内的人员及其截止日期")
    sub.add_parser("check", help="全面检查数据库文件(逐页、逐个索引,大文件需数秒到数十秒)")
    restore = sub.add_parser("restore", help="从备份恢复数据库(当前文件先另存)")
    restore.add_argument("file", type=Path)
    restore.add_argument("--yes", action="store_true", help="不再询问,直接恢复")
    restore.add_argument("--unregistered", action="store_true",
                         help="使用不在备份登记中的文件(无法确认其来源,慎用)")
    return parser


class LoginRequired(Exception):
    pass


def _login(db, args, *, changing: bool = False):
    """Log in as ``--user``; returns the actor (``changing``: the login result, for passwd, which
    is what a login that must change its password may do). Raises LoginRequired with what to do."""
    import getpass
    import os

    from mibao_desktop.services.context import Services

    if not args.user:
        raise LoginRequired("此命令需要登录:请用 --user 指定用户名(口令可放在环境变量 MIBAO_PASSWORD 中)。")
    password = os.environ.get("MIBAO_PASSWORD")
    if password is None:
        password = getpass.getpass(f"{args.user} 的口令:")
    result = Services(db).accounts.login(args.user, password)
    if changing:
        return result, password
    if result.must_change_password:
        raise LoginRequired(f"{result.why_change} 请先修改口令(桌面程序,或 mibao --user {args.user} passwd)。")
    return result.actor


def _new_password(prompt: str) -> str:
    """A new or temporary password: MIBAO_NEW_PASSWORD, or typed twice without echo."""
    import getpass
    import os

    chosen = os.environ.get("MIBAO_NEW_PASSWORD")
    if chosen is not None:
        return chosen
    first = getpass.getpass(f"{prompt}:")
    if getpass.getpass(f"再次输入{prompt}:") != first:
        raise LoginRequired("两次输入的口令不一致,未作改动。")
    return first


def _passwd(db, args) -> int:
    from mibao_desktop.services.context import Services

    result, old = _login(db, args, changing=True)
    if result.why_change:
        print(result.why_change)
    Services(db).accounts.change_password(result.actor, old, _new_password("新口令"))
    print(f"{args.user} 的口令已修改。")
    return EXIT_OK


def _accounts(db, actor, args) -> int:
    """The account work of the command line, through the same service as the desktop: the
    system administrator's (list, create, set-id, reset, disable, unlock) and the security
    administrator's grant (pending, grant)."""
    from mibao_desktop.security import Role
    from mibao_desktop.services.context import Services

    accounts = Services(db, actor).accounts
    command = args.accounts_command
    if command in ("list", "pending"):
        rows = accounts.accounts(actor) if command == "list" else accounts.awaiting_grant(actor)
        for a in rows:
            print(f"{a.name}\t{a.display_name}\t{a.person_id or '-'}\t{a.role_text}\t{a.status_text}"
                  + (f"\t建立人 {a.created_by}" if a.created_by else ""))
        print(f"共 {len(rows)} 个账户。")
    elif command == "create":
        made = accounts.create_account(actor, args.name, args.display_name, args.person_id, _new_password("临时口令"))
        print(f"已新建账户 {made.name}({made.display_name}),待安全保密管理员授予角色后才能登录。")
    elif command == "set-id":
        done = accounts.set_person_id(actor, args.name, args.person_id)
        print(f"已为账户 {done.name}({done.display_name})登记工号 {done.person_id}。")
    elif command == "reset":
        accounts.reset_password(actor, args.name, _new_password("临时口令"))
        print(f"已重置 {args.name} 的口令;其下次登录时须修改,并会看到由谁、何时重置。")
    elif command == "disable":
        accounts.set_active(actor, args.name, False)
        print(f"已停用账户 {args.name}。")
    elif command == "unlock":
        accounts.unlock_account(actor, args.name)
        print(f"已解锁账户 {args.name}。")
    else:
        granted = accounts.grant_role(actor, args.name, Role(args.role))
        print(f"已授予 {granted.name}({granted.display_name}){granted.role_text}角色并启用。")
    return EXIT_OK


def _desktop_only(argv: list[str]) -> argparse.Namespace | None:
    """The options of a plain desktop start (no command), read without building the whole
    command parser, whose help lists the label layouts and forms (importing the PDF code:
    a tenth of a second of the start to the login window)."""
    start = argparse.ArgumentParser(add_help=False)
    for option in ("--data-dir", "--database", "--user"):
        start.add_argument(option)
    try:
        known, rest = start.parse_known_args(argv)
    except SystemExit:
        return None
    return None if rest else known


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    desktop = _desktop_only(argv)
    if desktop is not None:
        from mibao_desktop.ui.app import refuse_to_start, run

        try:
            data_dir = paths.data_dir(desktop.data_dir)
        except paths.DataFolderError as exc:  # started from the menu: no terminal to print to
            print(f"错误:{exc}", file=sys.stderr)
            return refuse_to_start("无法使用数据文件夹", str(exc))
        with files.secured(data_dir):  # umask 077, temp files inside the data folder
            return run(data_dir, database=desktop.database)
    args = _parser().parse_args(argv)
    try:
        data_dir = paths.data_dir(args.data_dir)
    except paths.DataFolderError as exc:
        print(f"错误:{exc}", file=sys.stderr)
        return EXIT_ERROR
    if args.command is None:
        from mibao_desktop.ui.app import run

        with files.secured(data_dir):
            return run(data_dir, database=args.database)
    with files.secured(data_dir):  # umask 077, temp files inside the data folder, leftovers cleared
        return _command(data_dir, args)


def _command(data_dir: Path, args) -> int:
    from mibao_desktop.storage.backup import BackupError
    from mibao_desktop.db.database import DatabaseError
    from mibao_desktop.excel import SpreadsheetError
    from mibao_desktop.errors import ServiceError

    try:
        _check_output_names(args)
        if args.command == "restore":
            return _restore(data_dir, args)
        from mibao_desktop.storage.startup import open_database

        db = open_database(data_dir, database=args.database)
        if args.command == "demo":
            return _demo(db, args)
        if args.command == "check":
            return _check(db, data_dir)
        if args.command == "passwd":
            return _passwd(db, args)
        actor = _login(db, args)
        if args.command == "accounts":
            return _accounts(db, actor, args)
        if args.command == "audit":
            return _audit(db, actor, args)
        if args.command == "backup":
            return _backup(db, actor, data_dir)
        if args.command == "labels":
            return _labels(db, actor, args)
        if args.command == "form":
            return _form(db, actor, args)
        if args.command == "missing-check":
            return _missing_check(db, actor)
        if args.command == "decommission-check":
            return _decommission_check(db, actor)
        if args.command == "due":
            return _due(db, actor, data_dir, args.as_of)
        if args.command == "report":
            return _annual(db, actor, args)
        service = _ledger_service(db, actor)
        from mibao_desktop.ledgers import get_ledger
        from mibao_desktop.services.context import Services

        ledger = get_ledger(args.ledger)
        if args.command == "export":
            return _export(service, ledger, args)
        return _import(service, ledger, args, settings=Services(db, actor).settings)
    except (KeyError, SpreadsheetError, DatabaseError, ServiceError, BackupError, LoginRequired, OSError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        print(f"错误:{message}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("已中断,未完成的操作没有保存。", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - a terminal user gets a sentence, not a traceback
        log = _log_failure(data_dir)
        print(f"错误:操作未完成,数据未改动(内部错误 {type(exc).__name__}: {exc})。"
              + (f"详细信息已写入“{log}”。" if log else ""), file=sys.stderr)
        return EXIT_ERROR


def _check_output_names(args) -> None:
    """A file a command will write must be named for what it is, before anything is done: an
    Excel workbook under out.csv opens in Excel as garbage, and a refused-rows file named wrong
    was found out only after the import had run."""
    from mibao_desktop import files
    from mibao_desktop.excel import SpreadsheetError

    suffix = {"export": ".xlsx", "report": ".xlsx", "labels": ".pdf", "form": ".pdf"}.get(args.command)
    if args.command == "audit" and args.audit_command == "export":
        suffix = ".xlsx"
    for path, wanted in ((getattr(args, "output", None), suffix), (getattr(args, "refused", None), ".xlsx")):
        if path is None or wanted is None:
            continue
        files.refuse_overwrite(path)  # a database named as the output is told as such first
        if Path(path).suffix.lower() == wanted:
            continue
        kind = "Excel 工作簿" if wanted == ".xlsx" else "PDF 文件"
        raise SpreadsheetError(f"“{path}”:写出的是{kind},文件名须以 {wanted} 结尾,如“{Path(path).with_suffix(wanted).name}”")


def _log_failure(data_dir: Path) -> Path | None:
    """The traceback of an unexpected failure, kept for whoever maintains the installation."""
    from mibao_desktop import errorlog

    return errorlog.write(data_dir)


def _missing_check(db, actor) -> int:
    """The missing clock's check (what the desktop runs at start and each day), then the lists."""
    from mibao_desktop.services.context import Services

    watch = Services(db, actor).carrier_watch
    for event in watch.open_due_events():
        print(f"已开立泄密事件 {event.number}:{event.display('item')},{event.display('grade')},"
              f"报告时限 {event.display('report_by')}")
    print(watch_text(watch.watch(), watch.clock()))
    return EXIT_OK


def _annual(db, actor, args) -> int:
    """The annual report with its 自查自评: the security administrator's, as in the desktop."""
    from mibao_desktop.excel import export_annual_report
    from mibao_desktop.security import Role, require

    require(actor, Role.SECURITY_ADMIN, doing="导出年度报表")
    if not 1900 <= args.year <= 9999:
        print(f"错误:年度“{args.year}”无法识别,请写作四位数字,例如 2026", file=sys.stderr)
        return EXIT_ERROR
    from mibao_desktop.excel import export as paper

    if args.marking is not None and args.marking not in paper.markings():
        print(f"错误:密级标志“{args.marking}”无法识别,应为:{'、'.join(paper.markings())}", file=sys.stderr)
        return EXIT_ERROR
    count = export_annual_report(_ledger_service(db, actor), args.year, args.output, marking=args.marking)
    print(f"已导出 {args.year} 年度报表(含自查自评)到“{args.output}”,各台账共 {count} 条记录。")
    return EXIT_OK


def _as_of(text: str):
    import argparse
    import datetime as dt

    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期“{text}”无法识别,请写作 YYYY-MM-DD,例如 2026-12-01") from None


def _due(db, actor, data_dir: Path, as_of) -> int:
    """The first screen's list, one item a line (tab-separated: group, due date, days, area,
    subject, reason, action), most urgent first, as seen on ``as_of``."""
    from mibao_desktop.services.context import Services

    listed = Services(db, actor, data_dir).due.due(as_of)
    print(listed.summary())
    for item in listed.items:
        print(item.line(listed.today))
    for title in listed.failed:
        print(f"未能读取:{title}", file=sys.stderr)
    return EXIT_OK


def _decommission_check(db, actor) -> int:
    """The end of the 脱密期 (what the desktop runs at start): who moved to 已脱密, then who is
    still in the period and until when."""
    from mibao_desktop.services.context import Services

    departure = Services(db, actor).departure
    for person in departure.end_due():
        print(f"{person.label}({person.number})脱密期已于 {person.display('decommission_until')} 届满,已转为已脱密")
    within = departure.within()
    print(f"脱密期内的人员 {len(within)} 人")
    for person in within:
        print(f"  {person.label}({person.number}){person.display('department')} 脱密期 "
              f"{person.display('decommission_from')} 至 {person.display('decommission_until')}")
    return EXIT_OK


def watch_text(watch, now) -> str:
    """The watch lists as lines of text."""
    lines = [f"截至 {watch.today.isoformat()}:", f"下落不明的载体 {len(watch.missing)} 份"]
    lines += [f"  {c.copy_text} {c.title} {c.level or ''} 下落不明日期 {c.since} 查找期限 {c.due or '—'} {c.days_text}"
              + (f" {c.leak_event}" if c.leak_event else "") for c in watch.missing]
    lines.append(f"借出到期和逾期未还的载体 {len(watch.loans)} 份")
    lines += [f"  {c.copy_text} {c.title} {c.level or ''} 借用人 {c.holder} 应归还日期 {c.due} {c.days_text}"
              for c in watch.loans]
    lines.append(f"未结的泄密事件 {len(watch.leaks)} 件")
    lines += [f"  {e.number} {e.grade} {e.item} {e.status} 报告时限 {e.report_by:%Y-%m-%d %H:%M} {e.deadline_text(now)}"
              for e in watch.leaks]
    return "\n".join(lines)


def _ledger_service(db, actor):
    from mibao_desktop.services.context import Services

    return Services(db, actor).ledgers


DEMO_ACCOUNTS = {  # role name → (login name, 姓名)
    "SYSTEM_ADMIN": ("xitong", "王系统(演示)"),
    "SECURITY_ADMIN": ("baomi", "李保密(演示)"),
    "AUDITOR": ("shenji", "赵审计(演示)"),
}


def demo_password() -> str:
    """A fresh password that meets the default policy (length, upper, lower, digits, symbol)."""
    import secrets

    upper = secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ")
    return f"Mb-{secrets.token_hex(3)}-{upper}{secrets.randbelow(90) + 10}"


def _demo(db, args) -> int:
    """Sample data. On an empty database it first makes the three demo accounts and prints
    their passwords once; on a database with accounts it needs the security administrator."""
    from mibao_desktop.demo import fill_demo
    from mibao_desktop.security import Role
    from mibao_desktop.services.context import Services

    accounts = Services(db).accounts
    if accounts.needs_setup():
        chosen = {role: (*DEMO_ACCOUNTS[role.name], demo_password()) for role in Role}
        accounts.setup(chosen)
        print("已建立演示账户(三员分立;口令只显示这一次,请记下):")
        for role, (name, _display, password) in chosen.items():
            print(f"  {role.value}:用户名 {name}  口令 {password}")
        name, _display, password = chosen[Role.SECURITY_ADMIN]
        actor = accounts.login(name, password).actor
    else:
        existing = _count_all(db)
        if args.if_empty and existing:
            print(f"数据库已有 {existing} 条记录,未添加演示数据:{db.path}")
            return EXIT_OK
        actor = _login(db, args)
    made = fill_demo(_ledger_service(db, actor), scale=args.scale)
    from mibao_desktop.ledgers import ALL_LEDGERS

    for ledger in ALL_LEDGERS:
        print(f"{ledger.title}:新增 {made.get(ledger.key, 0)} 条")
    print(f"数据库:{db.path}")
    return EXIT_OK


def _count_all(db) -> int:
    from sqlalchemy import func, select

    from mibao_desktop.db.models import Record

    with db.session() as session:
        return session.scalar(select(func.count(Record.id))) or 0


def _export(service, ledger, args) -> int:
    from mibao_desktop.excel import export_ledger
    from mibao_desktop.services.repository import LedgerQuery

    query = LedgerQuery(text=args.search, include_voided=args.include_voided)
    count = export_ledger(service, ledger, args.output, query=query)
    print(f"已导出 {count} 条记录到“{args.output}”。")
    return EXIT_OK


def _own_levels(settings, given: list[str], *, dry_run: bool) -> None:
    """``--own-level 涉密专用:秘密:涉密``: a level of the unit's own set before the import reads
    the file (ranked under the level named; ``涉密``: managed as classified). A dry run reads
    with it and saves nothing."""
    from mibao_desktop.excel.reader import SpreadsheetError
    from mibao_desktop.ledgers import levels

    for text in given:
        parts = [p.strip() for p in text.replace("：", ":").split(":")]
        if len(parts) not in (2, 3) or not all(parts) or (len(parts) == 3 and parts[2] != "涉密"):
            raise SpreadsheetError(f"“{text}”应写成 密级:排在其下的密级[:涉密],如 涉密专用:秘密:涉密")
        if dry_run:
            made = settings.with_level(parts[0], parts[1], classified=len(parts) == 3, base=levels.unit())
            levels.use(made)
        else:
            made = settings.add_unit_level(parts[0], parts[1], classified=len(parts) == 3)
        print(f"本单位的密级{'(预览,未保存)' if dry_run else ''}:{'、'.join(made.order)}"
              + (f"(按涉密管理:{'、'.join(sorted(made.classified))})" if made.classified else ""))


def _worked_out_columns(ledger, headers: list[str]) -> list[str]:
    """The headers among ``headers`` naming a field the app works out itself (a carrier's 解密时间,
    a copy's 下落不明日期): a field, though no column fills it."""
    from mibao_desktop.excel.mapping import STATUS, header_key

    own = {header_key(name) for f in ledger.fields if not (f.editable or f.recorded or f.name == STATUS)
           for name in f.header_names}
    return [t for t in headers if header_key(t) in own]


def _import(service, ledger, args, settings=None) -> int:
    from mibao_desktop.excel.importer import FROM, PENDING, VALUE, Fill, plan_import, run_import, write_refused
    from mibao_desktop.excel.reader import SpreadsheetError

    if args.own_level:
        _own_levels(settings, args.own_level, dry_run=args.dry_run)
    plan = plan_import(ledger, args.input, service.import_mapping(ledger), sheet=args.sheet)
    plan.include_flagged = args.include_flagged
    for word in args.pending:
        plan.fills[plan.field_named(word)] = Fill(PENDING)
    for how, given in [(VALUE, g) for g in args.fill] + [(FROM, g) for g in args.fill_from]:
        word, sep, value = given.partition("=")
        if not sep or not word.strip() or not value.strip():
            raise SpreadsheetError(f"“{given}”应写成 字段=值,如 定密时间=2020-01-01")
        plan.fills[plan.field_named(word.strip())] = Fill(how, plan.column_named(value.strip()) if how == FROM
                                                           else value.strip())
    report = run_import(service, plan, all_or_nothing=args.all_or_nothing, dry_run=args.dry_run)
    columns = "、".join(c.replace("\n", "") for c in report.columns)  # a header broken over lines, on one
    hidden = "(隐藏)" if plan.sheet.hidden else ""  # taken though hidden (no visible sheet names the ledger)
    print(f"工作表“{report.sheet}”{hidden},表头在第 {report.header_row} 行;识别的列:{columns}")
    worked_out = _worked_out_columns(ledger, report.unmapped)
    unmapped = [t for t in report.unmapped if t not in worked_out]
    if unmapped:
        print(f"未导入的列:{'、'.join(unmapped)}(没有对应的字段;如需导入,请在导入向导中指定对应的列)")
    if worked_out:
        print(f"未导入的列:{'、'.join(worked_out)}(由密保根据其他各列算出或在登记操作时记下,不从文件读取)")
    if report.other_sheets:
        print(f"另有工作表也像{ledger.title}:{'、'.join(report.other_sheets)}(本次未导入,可用 --sheet 指定)")
    for line in report.form_lines:
        print(f"表单行(未作为记录导入,已记入导入记录):第 {line.row} 行 {line}")
    for note in report.notes:
        print(f"说明:{note}")
    for row in report.left_out:
        print(f"未导入:{row}(如需导入,加 --include-flagged)")
    for refused in report.refused:
        print(str(refused))
    for row, copies in report.children_listed.items():  # what each carrier's rows list (份号 1-5 → 5 份)
        print(f"{_child_noun(ledger)}:第 {row} 行 {copies}")
    if report.skipped_rows:
        print(f"已跳过非数据行(签字栏等):第 {'、'.join(map(str, report.skipped_rows))} 行")
    if report.people_added:
        print(f"新加入人员名册:{'、'.join(report.people_added[:50])}"
              + (f" 等 {len(report.people_added)} 人" if len(report.people_added) > 50 else ""))
    if args.all_or_nothing and report.refused:
        print("因有出错的行,按 --all-or-nothing 一条也未导入。")
    if args.refused and report.refused:
        count = write_refused(plan, report, args.refused)
        print(f"未导入的 {count} 行及原因已写入“{args.refused}”,改正后可再次导入。")
    if report.pending:
        print(f"{'将有' if args.dry_run else '其中'} {report.pending_records} 条记录标为“待补充”:表中没有"
              + "、".join(f"“{label}”({n} 条)" for label, n in report.pending.items())
              + ",请在台账“待补充”中补全")
    for word, rows in report.unknown_levels.items():
        where = "、".join(map(str, rows[:20])) + (" 等" if len(rows) > 20 else "")
        print(f"密级“{word}”(第 {where} 行)不是本单位的密级,这些行未导入。本单位使用此密级时,"
              f"加 --own-level {word}:排在其下的密级(按涉密管理的再加“:涉密”)再导入一次,"
              f"如 --own-level {word}:秘密;或在“系统→本单位密级”中添加")
    done = "可导入" if args.dry_run else "已导入"
    children = f"(其下{_child_noun(ledger)} {report.children} 份)" if report.children else ""
    print(f"{done} {report.accepted if args.dry_run else report.created} 条{children};未导入 {report.not_imported} 行。")
    return EXIT_REFUSED if report.not_imported else EXIT_OK


def _child_noun(ledger) -> str:
    from mibao_desktop.ledgers import children_of

    return "、".join(child.noun for child in children_of(ledger))


def _walk_shown(done: int, total: int) -> None:
    print(f"\r正在校验审计日志:{done}/{total} 条", end="", file=sys.stderr, flush=True)


def _audit(db, actor, args) -> int:
    from mibao_desktop.services.context import Services

    service = Services(db, actor).audit
    if args.audit_command == "verify":
        watched = sys.stderr.isatty()  # a person watching: how far the walk is (a million entries take a while)
        result = service.verify(args.anchor, progress=_walk_shown if watched else None)
        if watched:
            print(file=sys.stderr)
        print(("校验通过:" if result.ok else "校验未通过:") + result.message)
        for note in result.anchors:
            print(f"  {note}")
        return EXIT_OK if result.ok else EXIT_REFUSED
    from mibao_desktop.excel.audit_export import export_audit

    count = export_audit(service, args.output, marking=args.marking)
    print(f"已导出 {count} 条审计记录到“{args.output}”。")
    return EXIT_OK


def _check(db, data_dir) -> int:
    """The full check the desktop runs after its window is up: every page, every index, the
    search indexes. Reads only; needs no login."""
    from mibao_desktop.storage.startup import corrupt_after_start

    if not db.is_sqlite:
        # the server checks its own pages and indexes; the computers' texts kept in order
        # (revision 0031) are the app's, kept by its triggers: compared with the rows
        problem = _server_walks_problem(db)
        if problem is None:
            print("数据库在 PostgreSQL 服务器上,页面和索引由服务器自行检查;按顺序保存的搜索文字与数据一致。")
            return EXIT_OK
        print(f"错误:{problem}", file=sys.stderr)
        return EXIT_REFUSED
    problem = corrupt_after_start(db, data_dir, thorough=True)
    if problem is None:
        print(f"数据库完好:{db.path}")
        return EXIT_OK
    print(f"错误:{problem}", file=sys.stderr)
    return EXIT_REFUSED


def _server_walks_problem(db) -> str | None:
    """PostgreSQL: each ledger's search texts kept in order (``search_index.PG_WALKS``) against
    its rows and their texts, text by text; None when they agree."""
    from mibao_desktop.db import search_index
    from mibao_desktop.db.schema import SEARCH_TABLES, table_of

    with db.engine.connect() as conn:
        for key, column in search_index.PG_WALKS.items():
            problem = search_index.walk_problem(conn, SEARCH_TABLES[key].name, table_of(key).name, column,
                                                thorough=True)
            if problem:
                return problem
    return None


def _backup(db, actor, data_dir) -> int:
    from mibao_desktop.services.context import Services

    made = Services(db, actor, data_dir).backups.make(db)
    print(f"备份完成:{made.path}({made.path.stat().st_size // 1024} KB)")
    return EXIT_OK


def _restore(data_dir, args) -> int:
    """Restore a backup: the security administrator's, logged in against the current database,
    or — when that cannot be opened (or has no account yet) — against accounts the unit trusts
    (BackupService.login_source: a registered backup's own, else the current file's or the
    newest registered backup's; a file with nothing trusted to check against is refused before
    a password is asked for). A file that the backup register does not list needs
    --unregistered, and is warned about."""
    import getpass
    import os

    from mibao_desktop.db.database import Database
    from mibao_desktop.errors import ServiceError
    from mibao_desktop.security import Role, require
    from mibao_desktop.services.backup_service import SERVER_BACKUPS, UNREGISTERED, BackupService
    from mibao_desktop.storage import backup

    if isinstance(paths.database_target(data_dir, args.database), str):
        raise ServiceError(SERVER_BACKUPS)
    path = paths.database_path(data_dir)
    logged_in = path.exists() and backup.account_count(path) != 0 and backup.integrity_problem(path) is None
    actor, login = None, None
    if logged_in:
        db = Database.open(path, backup_dir=paths.backup_dir(data_dir))
        try:
            actor = _login(db, args)
            require(actor, Role.SECURITY_ADMIN, doing="恢复备份")
        finally:
            db.close()
    elif not args.user:
        raise LoginRequired("当前数据库无法打开(或还没有账户),恢复备份须由安全保密管理员登录:请用 --user 指定"
                            "安全保密管理员的用户名(口令可放在环境变量 MIBAO_PASSWORD 中)。")
    service = BackupService(data_dir, actor)
    if not service.is_registered(args.file):
        if not args.unregistered:
            print(f"错误:{UNREGISTERED.format(name=args.file.name)}如确需使用,请加 --unregistered。", file=sys.stderr)
            return EXIT_REFUSED
        print(f"警告:{args.file.name} 不在备份登记中,无法确认它由密保建立且未被改动。", file=sys.stderr)
    if not logged_in:
        source = service.login_source(args.file)  # refused here, before a password is asked for
        password = os.environ.get("MIBAO_PASSWORD")
        if password is None:
            password = getpass.getpass(f"{args.user} 的口令(按{source.accounts}核对):")
        login = (args.user, password)
    if not args.yes:
        answer = input(f"将用 {args.file} 替换当前数据库(当前文件先另存到 backups)。输入 yes 确认:")
        if answer.strip().lower() != "yes":
            print("未恢复,数据未作改动。")
            return EXIT_REFUSED
    restored = service.restore(args.file, login=login, unregistered=args.unregistered)  # no database is open here
    print(f"已恢复:{args.file}" + (f";原数据库已另存为 {restored.previous}" if restored.previous else ""))
    if restored.dropped:
        print(f"所恢复的文件比原审计日志少 {restored.dropped} 条记录(原链头 {restored.previous_head}),"
              "这些记录已转记到恢复后的审计日志中。")
    elif restored.dropped is None and restored.previous:
        print("原数据库的审计日志无法读取,未能比对恢复撤下的审计记录(已记入审计日志)。")
    return EXIT_OK


def _find_records(service, ledger, numbers):
    """RecordViews by asset number, in the order given; raises KeyError naming a missing one."""
    from mibao_desktop.services.repository import LedgerQuery

    if not numbers:
        return service.query(ledger, LedgerQuery(limit=None)).rows
    found = []
    for number in numbers:
        record = service.find(ledger, number)
        if record is None or record.voided:
            raise KeyError(f"{ledger.title}中没有编号为 {number} 的在册记录")
        found.append(record)
    return found


def _labels(db, actor, args) -> int:
    from mibao_desktop.printing.labels import PRESETS
    from mibao_desktop.services.context import Services

    printing = Services(db, actor).printing
    from mibao_desktop.ledgers import get_ledger

    ledger = get_ledger(args.ledger)
    records = _find_records(printing.ledgers, ledger, args.ids)
    if args.kind in ("cover", "envelope", "seal"):  # a label for each copy of the carriers named
        from mibao_desktop.errors import ServiceError
        from mibao_desktop.excel.copy_numbers import CopyNumberError, parse
        from mibao_desktop.printing.carrier_labels import KIND_TITLES

        try:
            only = parse(args.copy_numbers)
        except CopyNumberError as exc:
            raise ServiceError(f"--copy-numbers:{exc}") from None
        marks = printing.copy_marks(records, receiver=args.receiver, sender=args.sender,
                                    envelope=args.kind == "envelope", only=only)
        drawn = printing.copy_labels(ledger, marks, args.output, PRESETS[args.layout], kind=args.kind,
                                     start=args.start, copies=args.copies, unit=args.unit,
                                     safe_margin=args.safe_margin)
        print(f"已为 {len(marks)} 份载体生成 {drawn} 张{KIND_TITLES[args.kind]},写入“{args.output}”。")
        return EXIT_OK
    drawn = printing.labels(ledger, records, args.output, PRESETS[args.layout], kind=args.kind,
                            start=args.start, copies=args.copies, unit=args.unit, safe_margin=args.safe_margin)
    print(f"已为 {len(records)} 条记录生成 {drawn} 张标识,写入“{args.output}”。")
    return EXIT_OK


def _form(db, actor, args) -> int:
    from mibao_desktop.printing.templates import FORM_TEMPLATES, ledgers_for
    from mibao_desktop.services.context import Services

    printing = Services(db, actor).printing
    template = FORM_TEMPLATES[args.name]
    candidates = ledgers_for(args.name)
    records, ledger = [], None
    for number in args.ids:
        matches = [r for l in candidates if (r := printing.ledgers.find(l, number)) and not r.voided]
        if not matches:
            raise KeyError(f"没有编号为 {number} 的在册记录(可用于:{'、'.join(l.title for l in candidates)})")
        records.append(matches[0])
        ledger = matches[0].ledger
    for warning in printing.form_warnings(args.name, records):  # said on the form too
        print(f"注意:{warning}。", file=sys.stderr)
    pages = printing.form(args.name, ledger, records, args.output)
    print(f"已生成{template.title}(共 {pages} 页),写入“{args.output}”。")
    return EXIT_OK
