"""Export to removable media: the drive list, a verified copy with its manifest, the register,
and a full or pulled-out drive leaving nothing that looks complete."""

from __future__ import annotations

import errno
import hashlib
import os

import openpyxl
import pytest

from mibao_desktop import removable_drives
from mibao_desktop.excel import export_ledger
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.audit_service import AuditFilter, AuditService
from mibao_desktop.errors import PermissionDenied
from mibao_desktop.services.output_service import OutputService
from tests.conftest import computer


def test_removable_drives_are_found_from_the_mount_table(tmp_path):
    usb, disk = tmp_path / "media" / "KINGSTON", tmp_path / "home"
    usb.mkdir(parents=True)
    disk.mkdir()
    sys_block = tmp_path / "sys"
    for device, removable in (("sdb", "1"), ("sda", "0"), ("mmcblk0", "1")):
        (sys_block / device).mkdir(parents=True)
        (sys_block / device / "removable").write_text(removable + "\n")
    mounts = tmp_path / "mounts"
    mounts.write_text(
        "/dev/sda2 / ext4 rw 0 0\n"
        "/dev/sdb1 /media/user/KINGSTON\\040USB vfat rw 0 0\n"
        "/dev/sda3 /media/user/DATA ext4 rw 0 0\n"
        "/dev/mmcblk0p1 /run/media/user/SD vfat rw 0 0\n"
        "tmpfs /run tmpfs rw 0 0\n")
    real_usage = removable_drives.shutil.disk_usage
    removable_drives.shutil.disk_usage = lambda p: real_usage(tmp_path)
    try:
        drives = removable_drives.removable_drives(mounts=mounts, sys_block=sys_block)
    finally:
        removable_drives.shutil.disk_usage = real_usage
    assert [str(d.path) for d in drives] == ["/media/user/KINGSTON USB", "/run/media/user/SD"]
    assert drives[0].label == "KINGSTON USB" and "GB" in drives[0].title


@pytest.fixture
def out(db):
    return OutputService(db, Actor("baomi", Role.SECURITY_ADMIN))


def test_a_report_goes_onto_the_medium_verified_and_registered(service, out, db, tmp_path):
    service.create("computers", computer())
    stick = tmp_path / "stick"
    written, count = out.to_medium(lambda p: export_ledger(service, service.ledger("computers"), p, audit_target="x"),
                                   "涉密计算机台账.xlsx", stick, what="涉密计算机台账", marking="机密")
    assert count == 1 and written.path == stick / "涉密计算机台账.xlsx"
    data = written.path.read_bytes()
    assert written.manifest.read_text(encoding="utf-8") == f"{hashlib.sha256(data).hexdigest()}  涉密计算机台账.xlsx\n"
    assert openpyxl.load_workbook(written.path).active["B5"].value == "JM-0001"  # after 序号, under 填报单位 and the header
    assert sorted(p.name for p in stick.iterdir()) == ["涉密计算机台账.xlsx", "涉密计算机台账.xlsx.sha256"]
    entry = out.register()[0]
    assert (entry.file_name, entry.size, entry.sha256, entry.records, entry.target) == (
        "涉密计算机台账.xlsx", len(data), written.sha256, 1, str(stick))
    logged = AuditService(db, Actor("shenji", Role.AUDITOR)).entries(AuditFilter(action="ledger.export_media"))[0]
    assert logged.detail["sha256"] == written.sha256 and logged.detail["size"] == len(data)
    with pytest.raises(PermissionDenied):
        OutputService(db, Actor("shenji", Role.AUDITOR)).register()


@pytest.mark.parametrize("failure, message", [
    (errno.ENOSPC, "空间不足"),
    (errno.EIO, "可能已拔出"),
])
def test_a_full_or_pulled_out_drive_leaves_nothing_complete_looking(service, out, tmp_path, monkeypatch,
                                                                    failure, message):
    service.create("computers", computer())
    stick = tmp_path / "stick"
    stick.mkdir()
    real_write = removable_drives._write_synced

    def half_then_fail(data, fd):
        with os.fdopen(fd, "wb") as handle:
            handle.write(next(iter(data))[:100])  # part of the file reached the drive
        raise OSError(failure, os.strerror(failure))

    monkeypatch.setattr(removable_drives, "_write_synced", half_then_fail)
    with pytest.raises(removable_drives.MediaError, match=message):
        out.to_medium(lambda p: export_ledger(service, service.ledger("computers"), p), "台账.xlsx", stick,
                      what="涉密计算机台账", marking="机密")
    assert list(stick.iterdir()) == []
    assert out.register() == []
    monkeypatch.setattr(removable_drives, "_write_synced", real_write)


def test_a_drive_too_small_is_refused_before_writing(service, out, tmp_path, monkeypatch):
    service.create("computers", computer())
    stick = tmp_path / "tiny"
    stick.mkdir()
    monkeypatch.setattr(removable_drives.shutil, "disk_usage", lambda p: type("U", (), {"free": 10, "total": 100})())
    with pytest.raises(removable_drives.MediaError, match="空间不足"):
        out.to_medium(lambda p: export_ledger(service, service.ledger("computers"), p), "台账.xlsx", stick,
                      what="台账", marking="机密")
    assert list(stick.iterdir()) == []


def test_a_bad_read_back_is_caught(service, out, tmp_path, monkeypatch):
    service.create("computers", computer())
    stick = tmp_path / "stick"
    real = removable_drives._read_back

    def flaky(path, identity):
        digest, size = real(path, identity)
        return "0" * 64, size  # the copy reads back different

    monkeypatch.setattr(removable_drives, "_read_back", flaky)
    with pytest.raises(removable_drives.MediaError, match="读回校验不一致"):
        out.to_medium(lambda p: export_ledger(service, service.ledger("computers"), p), "台账.xlsx", stick,
                      what="台账", marking="机密")
    assert list(stick.iterdir()) == []
