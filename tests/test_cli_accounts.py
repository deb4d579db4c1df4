"""The accounts on the command line (issue 11): the system administrator creates, the security
administrator grants, the person changes the temporary password; the demo still gives a login
for each role; a lone surrogate in --search is refused in words."""

import re

import pytest

from mibao_desktop.cli import main

pytestmark = pytest.mark.sqlite_only  # the command line on a --data-dir (its SQLite file)


def run(monkeypatch, capsys, folder, user, password, *args, new=None) -> tuple[int, str, str]:
    monkeypatch.setenv("MIBAO_PASSWORD", password)
    if new is None:
        monkeypatch.delenv("MIBAO_NEW_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("MIBAO_NEW_PASSWORD", new)
    code = main(["--data-dir", str(folder), "--user", user, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_two_people_for_a_new_account_on_the_command_line(tmp_path, capsys, monkeypatch):
    assert main(["--data-dir", str(tmp_path), "demo", "--scale", "0.01"]) == 0
    passwords = dict(re.findall(r"用户名 (\w+)  口令 (\S+)", capsys.readouterr().out))
    # the demo still gives a working login for each role
    for name, args in (("xitong", ["accounts", "list"]), ("baomi", ["accounts", "pending"]),
                       ("shenji", ["audit", "verify"])):
        assert run(monkeypatch, capsys, tmp_path, name, passwords[name], *args)[0] == 0
    x, b = passwords["xitong"], passwords["baomi"]
    code, out, _ = run(monkeypatch, capsys, tmp_path, "xitong", x, "accounts", "create", "zhangsan", "张三", "GH-1001",
                       new="Temp-Pass-2026")
    assert code == 0 and "待安全保密管理员授予角色" in out
    code, _, err = run(monkeypatch, capsys, tmp_path, "zhangsan", "Temp-Pass-2026", "audit", "verify")
    assert code == 2 and "尚未由安全保密管理员授予角色" in err
    code, _, err = run(monkeypatch, capsys, tmp_path, "xitong", x, "accounts", "grant", "zhangsan", "安全审计员")
    assert code == 2 and "系统管理员无权授予角色" in err
    code, out, _ = run(monkeypatch, capsys, tmp_path, "baomi", b, "accounts", "pending")
    assert "zhangsan\t张三\tGH-1001\t待授权\t待授权\t建立人 xitong" in out
    code, out, _ = run(monkeypatch, capsys, tmp_path, "baomi", b, "accounts", "grant", "zhangsan", "安全审计员")
    assert code == 0 and "安全审计员角色并启用" in out
    code, _, err = run(monkeypatch, capsys, tmp_path, "zhangsan", "Temp-Pass-2026", "audit", "verify")
    assert code == 2 and "首次登录" in err and "passwd" in err
    code, out, _ = run(monkeypatch, capsys, tmp_path, "zhangsan", "Temp-Pass-2026", "passwd", new="Own-Secret-2026")
    assert code == 0 and "已修改" in out
    code, out, _ = run(monkeypatch, capsys, tmp_path, "zhangsan", "Own-Secret-2026", "audit", "verify")
    assert code == 0 and out.startswith("校验通过:")
    code, out, _ = run(monkeypatch, capsys, tmp_path, "xitong", x, "accounts", "reset", "zhangsan", new="Reset-Pass-2026")
    assert code == 0
    code, out, _ = run(monkeypatch, capsys, tmp_path, "zhangsan", "Reset-Pass-2026", "passwd", new="Own-Secret-2027")
    assert code == 0 and "由系统管理员“xitong”重置" in out
    code, out, _ = run(monkeypatch, capsys, tmp_path, "xitong", x, "accounts", "list")
    assert code == 0 and "zhangsan\t张三\tGH-1001\t安全审计员\t在用" in out


def test_a_lone_surrogate_in_the_search_is_refused_in_words(tmp_path, capsys, monkeypatch):
    assert main(["--data-dir", str(tmp_path), "demo", "--scale", "0.01"]) == 0
    passwords = dict(re.findall(r"用户名 (\w+)  口令 (\S+)", capsys.readouterr().out))
    # bytes that are no UTF-8 arrive in argv as lone surrogates (Python's surrogateescape)
    code, _, err = run(monkeypatch, capsys, tmp_path, "baomi", passwords["baomi"], "export", "media",
                       str(tmp_path / "m.xlsx"), "--search", b"\xff\xfe".decode("utf-8", "surrogateescape"))
    assert code == 2 and "搜索词:含有无法识别的字符" in err and "Traceback" not in err
    assert not (tmp_path / "m.xlsx").exists()


def test_the_system_administrator_records_a_missing_person_id_on_the_command_line(tmp_path, capsys, monkeypatch):
    """accounts set-id NAME 工号: the demo's accounts have none (like those made before
    revision 0012); one held by another role is refused, one on record is not changed."""
    assert main(["--data-dir", str(tmp_path), "demo", "--scale", "0.01"]) == 0
    passwords = dict(re.findall(r"用户名 (\w+)  口令 (\S+)", capsys.readouterr().out))
    x = passwords["xitong"]
    code, _, err = run(monkeypatch, capsys, tmp_path, "baomi", passwords["baomi"], "accounts", "set-id", "baomi", "GH-1")
    assert code == 2 and "系统管理员" in err
    code, out, _ = run(monkeypatch, capsys, tmp_path, "xitong", x, "accounts", "set-id", "baomi", "GH-1")
    assert code == 0 and "已为账户 baomi" in out and "GH-1" in out
    code, _, err = run(monkeypatch, capsys, tmp_path, "xitong", x, "accounts", "set-id", "shenji", "GH-1")
    assert code == 2 and "三员分立" in err
    code, _, err = run(monkeypatch, capsys, tmp_path, "xitong", x, "accounts", "set-id", "baomi", "GH-2")
    assert code == 2 and "不能更改" in err
    code, out, _ = run(monkeypatch, capsys, tmp_path, "xitong", x, "accounts", "list")
    assert "baomi\t李保密(演示)\tGH-1\t" in out and "shenji\t" in out and "GH-2" not in out
