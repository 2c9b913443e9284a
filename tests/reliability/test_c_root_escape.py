"""`hostward audit --root R` reads only R: links are resolved as in a chroot, and nothing
under R that is not a regular file (FIFO, device, socket) is opened or waited on."""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest
from rootreads_kit import (
    ACCOUNT_CHECKS,
    BLOCK_USB,
    OUTSIDE_SHADOW,
    audit,
    build_root,
    resolver,  # noqa: F401  (fixture)
    write,
)
from testkit import HOSTWARD, agent_env

from collectors.system import files, rootfs
from collectors.system.linux import changes, updates

CANARY = "outside-canary-7f3e"


def outside_tree(tmp_path: Path) -> Path:
    """Files of the host, next to the image: what an escaping read would find."""
    out = tmp_path / "host"
    write(out, "/etc/shadow", OUTSIDE_SHADOW)
    write(out, "/etc/passwd", f"root:x:0:0:{CANARY}:/root:/bin/bash\n")
    write(out, "/etc/modprobe.d/host-usb.conf", BLOCK_USB)
    return out


def link_shadow_outside(root: Path, outside: Path, how: str) -> None:
    (root / "etc/shadow").unlink()
    target = outside / "etc/shadow"
    if how == "absolute":
        (root / "etc/shadow").symlink_to(target)
    else:  # enough `..` to climb out of any temp directory, then down to the host's file
        (root / "etc/shadow").symlink_to("../" * 40 + str(target).lstrip("/"))


@pytest.mark.parametrize("how", ["absolute", "relative"])
def test_a_shadow_symlinked_outside_the_root_is_not_read(tmp_path: Path, how: str) -> None:
    root, outside = build_root(tmp_path), outside_tree(tmp_path)
    link_shadow_outside(root, outside, how)
    found = audit(root, "pwd.login_password_set")["pwd.login_password_set"]
    # Read from the host, the empty passwords would make it `fail`; the link resolves inside
    # the image to a path that does not exist there.
    assert found["status"] == "error"
    assert "/etc/shadow" in found["reason"] and "missing" in found["reason"]


def test_an_absolute_symlink_is_followed_inside_the_root(tmp_path: Path) -> None:
    root = build_root(tmp_path)
    os.rename(root / "etc/shadow", root / "etc/shadow.real")
    (root / "etc/shadow").symlink_to("/etc/shadow.real")  # as a chroot sees it: inside R
    found = audit(root, "pwd.login_password_set")["pwd.login_password_set"]
    assert found["status"] == "pass", found["reason"]


def test_a_symlinked_etc_pointing_outside_is_neither_read_nor_listed(tmp_path: Path) -> None:
    root, outside = build_root(tmp_path), outside_tree(tmp_path)
    os.rename(root / "etc", root / "etc.image")
    (root / "etc").symlink_to(outside / "etc")
    results = audit(root, *ACCOUNT_CHECKS, "usb.storage_blocked")
    for check in ACCOUNT_CHECKS:
        assert results[check]["status"] == "error", results[check]
        assert "missing" in results[check]["reason"]
    # The host's modprobe.d would block USB storage: listed from the image, nothing does.
    usb = results["usb.storage_blocked"]
    assert usb["status"] == "fail", usb
    assert "host-usb.conf" not in str(usb["evidence"])
    assert CANARY not in str(results)


def test_a_symlinked_directory_inside_the_root_is_listed(tmp_path: Path) -> None:
    root = build_root(tmp_path)
    os.rename(root / "etc/modprobe.d", root / "srv-modprobe")
    (root / "etc/modprobe.d").symlink_to("/srv-modprobe")
    usb = audit(root, "usb.storage_blocked")["usb.storage_blocked"]
    assert usb["status"] == "pass", usb["reason"]


def test_a_symlink_loop_is_an_error_naming_the_loop(tmp_path: Path) -> None:
    root = build_root(tmp_path)
    (root / "etc/passwd").unlink()
    (root / "etc/passwd").symlink_to("passwd.b")
    (root / "etc/passwd.b").symlink_to("/etc/passwd")
    results = audit(root, *ACCOUNT_CHECKS)
    for check in ACCOUNT_CHECKS:
        assert results[check]["status"] == "error"
        assert "link loop" in results[check]["reason"]


def test_a_fifo_as_passwd_makes_the_checks_error_and_the_audit_exits(tmp_path: Path) -> None:
    root = build_root(tmp_path)
    (root / "etc/passwd").unlink()
    os.mkfifo(root / "etc/passwd")
    # Before: the JSON was printed, then the process never exited (a worker blocked in open()).
    results = audit(root, *ACCOUNT_CHECKS, timeout=30)
    for check in ACCOUNT_CHECKS:
        assert results[check]["status"] == "error"
        assert "not a regular file (fifo)" in results[check]["reason"]


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a device node needs root")
def test_a_device_node_as_shadow_is_refused_unopened(tmp_path: Path) -> None:
    root = build_root(tmp_path)
    (root / "etc/shadow").unlink()
    os.mknod(root / "etc/shadow", 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # /dev/null
    found = audit(root, "pwd.login_password_set")["pwd.login_password_set"]
    assert found["status"] == "error"
    assert "not a regular file (character device)" in found["reason"]


def test_a_unix_socket_as_login_defs_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = build_root(tmp_path)
    (root / "etc/login.defs").unlink()
    monkeypatch.chdir(root / "etc")  # a relative name: socket paths are limited to 108 bytes
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind("login.defs")
        found = audit(root, "pwd.max_age")["pwd.max_age"]
    assert found["status"] == "error"
    assert "not a regular file (socket)" in found["reason"]


@pytest.mark.usefixtures("resolver")
def test_every_reader_stays_inside_the_root_with_either_resolver(tmp_path: Path) -> None:
    root, outside = build_root(tmp_path), outside_tree(tmp_path)
    (root / "etc/escape").symlink_to(outside / "etc/passwd")
    (root / "etc/climb").symlink_to("../" * 40 + str(outside).lstrip("/") + "/etc/passwd")
    (root / "etc/hostdir").symlink_to(outside / "etc")
    (root / "etc/inside").symlink_to("/etc/../../../etc/passwd")  # `..` stops at the root
    for path in ("/etc/escape", "/etc/climb", "/etc/hostdir/passwd", "/../../host/etc/passwd"):
        assert files.read_text(root, path) is None, path
        assert files.read_bytes(root, path, 4096) is None
        assert not files.exists(root, path)
        assert files.host_path(root, path) is None
    assert files.list_dir(root, "/etc/hostdir") == []
    assert not files.is_dir(root, "/etc/hostdir")
    assert files.read_text(root, "/etc/inside") == (root / "etc/passwd").read_text()
    assert files.host_path(root, "/etc/inside") == str(root / "etc/passwd")
    os.mkfifo(root / "etc/fifo")
    with pytest.raises(files.NotAFile, match="fifo"):
        files.read_text(root, "/etc/fifo")
    assert files.exists(root, "/etc/fifo")  # a stat names it without opening it


@pytest.mark.usefixtures("resolver")
def test_enforcement_writes_through_a_symlinked_directory_stay_in_the_root(tmp_path: Path) -> None:
    root, outside = build_root(tmp_path), outside_tree(tmp_path)
    before = (outside / "etc/shadow").read_bytes()
    os.rename(root / "etc", root / "etc.image")
    (root / "etc").symlink_to(outside / "etc")
    # The link dangles inside R: the write is refused (as `mkdir -p` in a chroot would be).
    with pytest.raises(files.SystemReadError, match="cannot write"):
        changes.write_file_atomic(root, "/etc/shadow", "root:*:1:0:90:7:::\n")
    assert (outside / "etc/shadow").read_bytes() == before
    inside = root / str(outside / "etc").lstrip("/")  # where the link leads, seen from R
    inside.mkdir(parents=True)
    changes.write_file_atomic(root, "/etc/shadow", "root:*:1:0:90:7:::\n")
    assert (inside / "shadow").read_text() == "root:*:1:0:90:7:::\n"
    assert (outside / "etc/shadow").read_bytes() == before
    changes.remove_file(root, "/etc/shadow")
    assert (outside / "etc/shadow").read_bytes() == before and not (inside / "shadow").exists()


class RefusingKernel:
    """Stands for libc whose syscall(openat2) fails with `err`, as a kernel before 5.6 (ENOSYS)
    or a container's seccomp filter (EPERM) make it."""

    def __init__(self, err: int) -> None:
        self.err, self.calls = err, 0

    def syscall(self, *args: object) -> int:
        self.calls += 1
        ctypes.set_errno(self.err)
        return -1


@pytest.mark.parametrize("err", [errno.ENOSYS, errno.EPERM])
def test_without_openat2_the_walk_takes_over_and_still_stays_inside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, err: int
) -> None:
    root, outside = build_root(tmp_path), outside_tree(tmp_path)
    (root / "etc/escape").symlink_to(outside / "etc/passwd")
    kernel = RefusingKernel(err)
    monkeypatch.setattr(rootfs.OPENAT2, "enabled", True)
    monkeypatch.setattr(rootfs.OPENAT2, "_syscall", lambda: kernel)
    assert files.read_text(root, "/etc/escape") is None
    assert files.read_text(root, "/etc/passwd") == (root / "etc/passwd").read_text()
    assert kernel.calls >= 1
    assert rootfs.OPENAT2.enabled is (err != errno.ENOSYS)  # ENOSYS: never asked again


def history_db(path: Path, when: int) -> None:
    """A dnf 4 history (the columns PATCH-1 reads) with one completed upgrade at `when`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE trans (id INTEGER PRIMARY KEY, dt_end INTEGER, state INTEGER);"
        "CREATE TABLE trans_item (id INTEGER PRIMARY KEY, trans_id INTEGER, action INTEGER);"
    )
    db.execute("INSERT INTO trans VALUES (1, ?, 1)", (when,))
    db.execute("INSERT INTO trans_item VALUES (1, 1, 6)")
    db.commit()
    db.close()


def test_the_dnf_history_database_is_opened_inside_the_root_only(tmp_path: Path) -> None:
    root, outside = build_root(tmp_path), outside_tree(tmp_path)
    history_db(outside / "history.sqlite", 1_700_000_000)
    inside = root / updates.DNF_HISTORY[0].lstrip("/")
    inside.parent.mkdir(parents=True)
    inside.symlink_to(outside / "history.sqlite")  # absolute: dangles inside R
    assert updates.read_dnf_history(root) is None
    inside.unlink()
    history_db(root / "srv/history.sqlite", 1_600_000_000)
    inside.symlink_to("/srv/history.sqlite")
    found = updates.read_dnf_history(root)
    assert found is not None and found.last_upgrade is not None
    assert int(found.last_upgrade.timestamp()) == 1_600_000_000
    inside.unlink()
    os.mkfifo(inside)
    with pytest.raises(files.NotAFile):
        updates.read_dnf_history(root)


def test_a_fifo_given_as_config_or_policy_file_is_refused_without_waiting(tmp_path: Path) -> None:
    root = build_root(tmp_path)
    fifo = tmp_path / "hostward.yaml"
    os.mkfifo(fifo)
    argv = [str(HOSTWARD), "audit", "-c", str(fifo), "--root", str(root)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=agent_env(), check=False)
    assert done.returncode == 2 and f"{fifo}:0: cannot read: not a regular file" in done.stderr
    (tmp_path / "empty.yaml").write_text("", encoding="utf-8")
    argv = [str(HOSTWARD), "audit", "-c", str(tmp_path / "empty.yaml"), "--validate-policies", str(fifo)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=agent_env(), check=False)
    assert done.returncode == 2 and f"{fifo}:0: cannot read: not a regular file" in done.stderr
