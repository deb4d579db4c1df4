"""A data folder outside the Windows profile is closed to everyone but its owner by an ACL
(issue 11 item 4, files at rest): the icacls command built, when it runs and when it does not,
and — on Windows only — what the folder's ACL is afterwards."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from mibao_desktop import files
from mibao_desktop.security import owner_only

SID = "S-1-5-21-1004336348-1177238915-682003330-1001"


class Runs(list):
    """The commands run, answered as Windows would."""

    def __init__(self, whoami: bytes = b'"pc-07\\zhang","' + SID.encode() + b'"\r\n', icacls: int = 0) -> None:
        super().__init__()
        self.whoami, self.icacls = whoami, icacls

    def __call__(self, command, **kw):
        self.append((command, kw))
        if command[0] == "whoami":
            if self.whoami is None:
                raise FileNotFoundError("whoami")
            return subprocess.CompletedProcess(command, 0, self.whoami, b"")
        return subprocess.CompletedProcess(command, self.icacls, b"", b"")


@pytest.fixture
def windows(monkeypatch):
    monkeypatch.setattr(owner_only, "IS_WINDOWS", True)


def test_a_folder_outside_the_profile_is_left_to_its_owner_by_sid(windows, tmp_path):
    profile, folder = tmp_path / "Users" / "zhang", tmp_path / "密保数据"
    runs = Runs()
    assert owner_only.restrict(folder, run=runs, profile=profile)
    assert [c for c, _ in runs] == [
        ["whoami", "/user", "/fo", "csv", "/nh"],
        ["icacls", str(folder), "/inheritance:r", "/grant:r", f"*{SID}:(OI)(CI)F", "/Q"]]
    assert all(kw["capture_output"] and "timeout" in kw for _, kw in runs)


def test_inside_the_profile_or_off_windows_nothing_runs(windows, tmp_path, monkeypatch):
    profile = tmp_path / "Users" / "zhang"
    runs = Runs()
    assert not owner_only.restrict(profile / "AppData" / "Local" / "MiBao", run=runs, profile=profile)
    assert not owner_only.restrict(Path(Path.cwd().anchor), run=runs, profile=profile)  # a whole drive: never
    monkeypatch.setattr(owner_only, "IS_WINDOWS", False)
    assert not owner_only.restrict(tmp_path / "elsewhere", run=runs, profile=profile)
    assert runs == []


def test_without_whoami_the_user_comes_from_the_environment_and_a_failure_does_not_stop_the_start(
        windows, tmp_path, monkeypatch):
    monkeypatch.setenv("USERNAME", "zhang")
    monkeypatch.setenv("USERDOMAIN", "KEYAN")
    runs = Runs(whoami=None, icacls=5)  # icacls: access denied
    assert not owner_only.restrict(tmp_path / "d", run=runs, profile=tmp_path / "p")
    assert runs[-1][0][3:5] == ["/grant:r", "KEYAN\\zhang:(OI)(CI)F"]
    assert owner_only.current_user(Runs(whoami=b"")) == "KEYAN\\zhang"


def test_a_folder_holding_others_files_keeps_its_acl_and_only_mibaos_own_are_closed(windows, tmp_path):
    """An existing shared folder chosen as the data folder (D:\\共享 with 科室资料, another
    program's logs): closing it would shut its other users out of their own files by
    inheritance. Its ACL is left; MiBao's own files and folders in it are closed one by one
    (review: the ACL ran on any configured folder but a drive's root)."""
    profile, shared = tmp_path / "Users" / "zhang", tmp_path / "共享"
    (shared / "科室资料").mkdir(parents=True)
    (shared / "科室资料" / "通知.docx").write_bytes(b"x")
    (shared / "logs").mkdir()
    (shared / "logs" / "其他程序.log").write_bytes(b"x")  # a "logs" that is not MiBao's
    (shared / "mibao.sqlite").write_bytes(b"x")
    (shared / "restore-logins.json").write_bytes(b"{}")
    (shared / "backups").mkdir()
    (shared / "backups" / "register.jsonl").write_bytes(b"")
    (shared / "backups" / "mibao-manual-20261130-090000.sqlite").write_bytes(b"x")
    runs = Runs()
    assert owner_only.restrict(shared, run=runs, profile=profile)
    closed = [c for c, _ in runs if c[0] == "icacls"]
    assert closed == [
        ["icacls", str(shared / "backups"), "/inheritance:r", "/grant:r", f"*{SID}:(OI)(CI)F", "/Q"],
        ["icacls", str(shared / "mibao.sqlite"), "/inheritance:r", "/grant:r", f"*{SID}:F", "/Q"],
        ["icacls", str(shared / "restore-logins.json"), "/inheritance:r", "/grant:r", f"*{SID}:F", "/Q"]]
    assert not owner_only.own_folder(shared)


def test_a_folder_holding_only_mibaos_files_or_nothing_is_closed_whole(windows, tmp_path):
    """A folder MiBao has just made (empty), or one holding nothing but what MiBao keeps there,
    is MiBao's: closed whole, everything in it by inheritance."""
    profile, made = tmp_path / "Users" / "zhang", tmp_path / "密保数据"
    made.mkdir()
    runs = Runs()
    assert owner_only.restrict(made, run=runs, profile=profile)
    for name in ("mibao.sqlite", "mibao.sqlite-wal", "mibao-ui.ini", "restore-logins.json", "restore-logins.lock"):
        (made / name).write_bytes(b"x")
    for inside in ("logs/mibao-errors.log", "backups/register.jsonl", "backups/mibao-daily-20261130-090000.sqlite",
                   "tmp/4242/sheet.xml"):
        (made / inside).parent.mkdir(parents=True, exist_ok=True)
        (made / inside).write_bytes(b"x")
    assert owner_only.restrict(made, run=runs, profile=profile)
    whole = ["icacls", str(made), "/inheritance:r", "/grant:r", f"*{SID}:(OI)(CI)F", "/Q"]
    assert [c for c, _ in runs if c[0] == "icacls"] == [whole, whole]
    (made / "导出.xlsx").write_bytes(b"x")  # a file that is not MiBao's put there: no longer its alone
    assert not owner_only.own_folder(made)


def test_every_start_closes_the_data_folder_through_it(tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr(owner_only, "restrict", lambda folder, **kw: asked.append(Path(folder)))
    with files.secured(tmp_path / "data"):
        pass
    assert asked == [tmp_path / "data"]


@pytest.mark.skipif(os.name != "nt", reason="needs Windows: icacls and NTFS ACLs exist only there")
def test_on_windows_the_folder_holds_its_owner_alone(tmp_path):  # pragma: no cover - Windows only
    folder = Path(os.environ.get("SystemDrive", "C:") + "\\") / f"mibao-acl-test-{os.getpid()}"
    folder.mkdir()
    try:
        (folder / "mibao.sqlite").write_bytes(b"x")
        assert owner_only.restrict(folder)
        for path in (folder, folder / "mibao.sqlite"):  # the folder's own entry, and the file's inherited one
            shown = subprocess.run(["icacls", str(path)], capture_output=True, text=True).stdout
            entries = [line for line in shown.splitlines() if ":(" in line]
            assert len(entries) == 1 and entries[0].rstrip().endswith("(F)"), shown
    finally:
        subprocess.run(["icacls", str(folder), "/reset", "/T", "/Q"], capture_output=True)
        (folder / "mibao.sqlite").unlink()
        folder.rmdir()
