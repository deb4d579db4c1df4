"""The command line over the same core: demo, login, export, import, audit, backup, restore."""

import re
import sqlite3
import sys

import openpyxl
import pytest

from mibao_desktop.cli import main
from mibao_desktop.db.database import Database
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.services.repository import LedgerQuery

pytestmark = pytest.mark.sqlite_only  # the command line on a --data-dir (its SQLite file)


def service_for(path):
    return LedgerService(Database.open(path / "mibao.sqlite"), Actor("baomi", Role.SECURITY_ADMIN))


def demo(path, capsys, scale="0.2") -> dict[str, str]:
    """Run the demo on an empty folder; the passwords it prints once, by login name."""
    assert main(["--data-dir", str(path), "demo", "--scale", scale]) == 0
    out = capsys.readouterr().out
    return dict(re.findall(r"用户名 (\w+)  口令 (\S+)", out))


def accounts_only(path) -> dict[str, str]:
    """An empty database with the three accounts and known passwords."""
    from mibao_desktop.services.accounts import AccountService

    passwords = {"xitong": "Sys-Admin-2026", "baomi": "Sec-Admin-2026", "shenji": "Aud-Itor-2026"}
    roles = dict(zip(passwords, (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR)))
    db = Database.open(path / "mibao.sqlite")
    AccountService(db).setup({roles[n]: (n, n, p) for n, p in passwords.items()})
    db.close()
    return passwords


def as_user(monkeypatch, passwords, name, *args):
    monkeypatch.setenv("MIBAO_PASSWORD", passwords[name])
    return main(["--user", name, *args])


def test_demo_makes_accounts_and_realistic_data_once(tmp_path, capsys, monkeypatch):
    assert main(["--data-dir", str(tmp_path), "demo", "--scale", "0.2"]) == 0
    out = capsys.readouterr().out
    assert "涉密计算机台账:新增 60 条" in out and "只显示这一次" in out
    passwords = dict(re.findall(r"用户名 (\w+)  口令 (\S+)", out))
    assert set(passwords) == {"xitong", "baomi", "shenji"}
    svc = service_for(tmp_path)
    assert svc.count("computers") == 59  # one voided as a demo of voiding
    statuses = set(svc.distinct_values("computers", "status"))
    assert "在用" in statuses and len(statuses) >= 3  # some sent for repair or stopped, some retired
    assert main(["--data-dir", str(tmp_path), "demo", "--if-empty"]) == 0
    assert "未添加演示数据" in capsys.readouterr().out
    assert main(["--data-dir", str(tmp_path), "demo"]) == 2  # more data needs a login now
    assert "--user" in capsys.readouterr().err
    assert svc.count("computers") == 59


def test_data_dir_from_the_environment(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MIBAO_DATA_DIR", str(tmp_path / "env"))
    assert main(["demo", "--scale", "0.05"]) == 0
    assert (tmp_path / "env" / "mibao.sqlite").exists()


def test_export_and_import_round_trip(tmp_path, capsys, monkeypatch):
    src, dst = tmp_path / "a", tmp_path / "b"
    pa, pb = demo(src, capsys), accounts_only(dst)
    out = tmp_path / "计算机.xlsx"
    assert as_user(monkeypatch, pa, "baomi", "--data-dir", str(src), "export", "涉密计算机", str(out)) == 0
    assert f"已导出 59 条记录到“{out}”。" in capsys.readouterr().out
    assert openpyxl.load_workbook(out).active.max_row == 4 + 59 + 2  # marking, title, 填报单位, header; 填表人 under
    assert as_user(monkeypatch, pb, "baomi", "--data-dir", str(dst), "import", "computers", str(out)) == 0
    assert "已导入 59 条;未导入 0 行。" in capsys.readouterr().out
    def shown(svc):  # people are the same names in the other database, under ids of its own
        return [{f.name: r.display(f.name) for f in r.ledger.fields}  # status too: the file's is kept
                for r in svc.query("computers", LedgerQuery(limit=None)).rows]

    a, b = shown(service_for(src)), shown(service_for(dst))
    assert a == b
    assert as_user(monkeypatch, pb, "baomi", "--data-dir", str(dst), "import", "computers", str(out)) == 1
    again = capsys.readouterr().out
    assert "第 5 行 [设备编号]" in again and "已导入 0 条;未导入 59 行。" in again


def test_search_filters_the_export(tmp_path, capsys, monkeypatch):
    passwords = demo(tmp_path, capsys)
    out = tmp_path / "x.xlsx"
    assert as_user(monkeypatch, passwords, "baomi", "--data-dir", str(tmp_path), "export", "media", str(out),
                   "--search", "光盘") == 0
    rows = [r for r in openpyxl.load_workbook(out).active.iter_rows(min_row=5, values_only=True) if r[1]]
    assert rows and all(r[2] == "光盘" for r in rows)  # after 序号 and 介质编号


def test_a_wrong_password_or_the_wrong_role_is_refused(tmp_path, capsys, monkeypatch):
    passwords = demo(tmp_path, capsys)
    monkeypatch.setenv("MIBAO_PASSWORD", "wrong-Pass-123")
    assert main(["--data-dir", str(tmp_path), "--user", "baomi", "export", "media", str(tmp_path / "m.xlsx")]) == 2
    assert "用户名或口令错误" in capsys.readouterr().err
    assert as_user(monkeypatch, passwords, "shenji", "--data-dir", str(tmp_path), "export", "media",
                   str(tmp_path / "m.xlsx")) == 2
    assert "安全审计员无权" in capsys.readouterr().err
    assert not (tmp_path / "m.xlsx").exists()


def test_audit_verify_reports_ok_then_the_broken_entry(tmp_path, capsys, monkeypatch):
    passwords = demo(tmp_path, capsys, scale="0.05")
    assert as_user(monkeypatch, passwords, "shenji", "--data-dir", str(tmp_path), "audit", "verify") == 0
    said = capsys.readouterr()
    assert said.out.startswith("校验通过:") and not said.err  # no progress into a file or a pipe
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a person at a terminal sees how far it is
    assert as_user(monkeypatch, passwords, "shenji", "--data-dir", str(tmp_path), "audit", "verify") == 0
    said = capsys.readouterr()
    total = int(said.out.split("共 ")[1].split(" 条")[0])
    assert said.out.startswith("校验通过:") and said.err.endswith(f"\r正在校验审计日志:{total}/{total} 条\n")
    assert said.err.startswith(f"\r正在校验审计日志:0/{total} 条")
    with sqlite3.connect(tmp_path / "mibao.sqlite") as conn:
        conn.execute("UPDATE audit_log SET target = 'x' WHERE id = 7")
    assert as_user(monkeypatch, passwords, "shenji", "--data-dir", str(tmp_path), "audit", "verify") == 1
    broken = capsys.readouterr().out
    assert broken.startswith("校验未通过:") and "第 7 条" in broken
    out = tmp_path / "audit.xlsx"
    assert as_user(monkeypatch, passwords, "shenji", "--data-dir", str(tmp_path), "audit", "export", str(out)) == 0
    assert openpyxl.load_workbook(out).active.max_row > 10


def test_backup_and_restore(tmp_path, capsys, monkeypatch):
    passwords = demo(tmp_path, capsys, scale="0.05")
    assert as_user(monkeypatch, passwords, "baomi", "--data-dir", str(tmp_path), "backup") == 0
    made = re.search(r"备份完成:(\S+\.sqlite)", capsys.readouterr().out)[1]
    svc = service_for(tmp_path)
    record = svc.query("computers", LedgerQuery()).rows[0]
    svc.void(record.id, "测试")
    before = svc.count("computers")
    svc.db.close()
    assert as_user(monkeypatch, passwords, "baomi", "--data-dir", str(tmp_path), "restore", made, "--yes") == 0
    assert "原数据库已另存为" in capsys.readouterr().out
    assert service_for(tmp_path).count("computers") == before + 1


@pytest.mark.parametrize("args,message", [
    (["import", "computers", "missing.xlsx"], "找不到文件"),
    (["import", "computers", "{fake}"], "不是有效的 Excel"),
    (["import", "printers", "x.xlsx"], "没有名为“printers”的台账"),
])
def test_errors_exit_2_with_a_clear_message(tmp_path, capsys, monkeypatch, args, message):
    passwords = demo(tmp_path, capsys, scale="0.01")
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a workbook")
    args = [a.replace("{fake}", str(fake)) for a in args]
    assert as_user(monkeypatch, passwords, "baomi", "--data-dir", str(tmp_path), *args) == 2
    assert message in capsys.readouterr().err


def test_labels_and_forms_from_the_command_line(tmp_path, capsys, monkeypatch):
    import subprocess

    passwords = demo(tmp_path, capsys, scale="0.05")
    svc = service_for(tmp_path)
    numbers = [r.asset_number for r in svc.query("computers", LedgerQuery(limit=2)).rows]
    out = tmp_path / "labels.pdf"
    assert as_user(monkeypatch, passwords, "baomi", "--data-dir", str(tmp_path), "labels", "computers", "-o", str(out),
                   "--ids", *numbers, "--layout", "a4-3x7", "--start", "3") == 0
    assert "已为 2 条记录生成 2 张标识" in capsys.readouterr().out
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    assert all(n in text for n in numbers)
    form = tmp_path / "takeout.pdf"
    assert as_user(monkeypatch, passwords, "baomi", "--data-dir", str(tmp_path), "form", "takeout",
                   "--id", numbers[0], "-o", str(form)) == 0
    assert "已生成涉密信息设备外出审核表(共 1 页)" in capsys.readouterr().out
    repaired = svc.query("computers", LedgerQuery(filters={"status": "在用"}, limit=1)).rows[0]
    svc.change_status(repaired.id, "维修", facts={"repaired_by": "信息中心", "escort": "张伟", "storage_removed": "否"})
    assert as_user(monkeypatch, passwords, "baomi", "--data-dir", str(tmp_path), "form", "takeout",
                   "--id", repaired.asset_number, "-o", str(form)) == 0  # printed, with the warning said
    assert f"注意:涉密计算机 {repaired.asset_number} 当前为“维修”,不应外出。" in capsys.readouterr().err
    assert as_user(monkeypatch, passwords, "baomi", "--data-dir", str(tmp_path), "form", "takeout",
                   "--id", "NO-SUCH", "-o", str(form)) == 2
    assert "没有编号为 NO-SUCH" in capsys.readouterr().err
    assert as_user(monkeypatch, passwords, "shenji", "--data-dir", str(tmp_path), "labels", "computers",
                   "-o", str(tmp_path / "x.pdf")) == 2
    assert "安全审计员无权" in capsys.readouterr().err


def test_check_reads_every_page_and_names_a_damaged_one(tmp_path, capsys):
    from mibao_desktop.demo import computer_rows
    from mibao_desktop.db.database import Database
    from mibao_desktop.security import Actor, Role
    from mibao_desktop.services.ledger_service import LedgerService

    db = Database.open(tmp_path / "mibao.sqlite")
    LedgerService(db, Actor("baomi", Role.SECURITY_ADMIN)).create_many("computers", list(computer_rows(300)))
    db.close()
    assert main(["--data-dir", str(tmp_path), "check"]) == 0
    assert "数据库完好" in capsys.readouterr().out
    with open(tmp_path / "mibao.sqlite", "r+b") as handle:
        handle.seek(8192)
        handle.write(b"\xff" * 4096)
    assert main(["--data-dir", str(tmp_path), "check"]) == 1
    assert "已损坏" in capsys.readouterr().err


def test_the_auditors_export_leaves_out_auditor_entries_and_verify_still_checks_them(tmp_path, capsys, monkeypatch):
    """The auditor does not audit themselves: `audit export` lists the other two roles' entries
    and says the auditors' are reviewed by the security administrator; `audit verify` still
    walks every entry, so an edited auditor entry is caught by the auditor's own check."""
    passwords = demo(tmp_path, capsys, scale="0.05")
    assert as_user(monkeypatch, passwords, "shenji", "--data-dir", str(tmp_path), "audit", "verify") == 0
    capsys.readouterr()
    out = tmp_path / "audit.xlsx"
    assert as_user(monkeypatch, passwords, "shenji", "--data-dir", str(tmp_path), "audit", "export", str(out)) == 0
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    cells = [str(c) for row in rows for c in row if c is not None]
    assert any("本人及其他审计员的操作由安全保密管理员审查" in c for c in cells)
    assert "安全审计员" not in {row[3] for row in rows if row and isinstance(row[0], int)}
    assert "shenji" not in {row[2] for row in rows if row and isinstance(row[0], int)}
    with sqlite3.connect(tmp_path / "mibao.sqlite") as conn:
        total = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
        own = conn.execute("SELECT min(id) FROM audit_log WHERE role = '安全审计员' AND action = 'audit.verify'").fetchone()[0]
    assert as_user(monkeypatch, passwords, "shenji", "--data-dir", str(tmp_path), "audit", "verify") == 0
    assert f"共 {total + 1} 条" in capsys.readouterr().out  # every entry, the auditors' and this login's too
    with sqlite3.connect(tmp_path / "mibao.sqlite") as conn:
        conn.execute("UPDATE audit_log SET target = 'x' WHERE id = ?", (own,))
    assert as_user(monkeypatch, passwords, "shenji", "--data-dir", str(tmp_path), "audit", "verify") == 1
    assert f"第 {own} 条" in capsys.readouterr().out


def test_the_command_line_s_own_usage_and_errors_are_in_chinese(capsys):
    """argparse's usage line, headings and errors were English ("error: the following arguments
    are required: output", "usage:", "show this help message and exit"): the one English a
    user of the command line met. They are in Chinese, with the way to the usage."""
    from mibao_desktop import cli

    for args, said in ((["export", "computers"], "mibao export:错误:缺少以下参数:output(用 -h 查看用法)"),
                       (["report", "annual", "--year", "x", "-o", "a.xlsx"], "参数 --year:“x”不是有效的值"),
                       (["frob"], "参数 command:“frob”不是可选的值")):
        with pytest.raises(SystemExit) as exited:
            cli.main(args)
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert said in err and err.startswith("用法:mibao"), err
        assert "error" not in err and "usage" not in err and "invalid" not in err
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert out.startswith("用法:mibao") and "位置参数:" in out and "显示本帮助并退出" in out and "options" not in out
