"""Helpers of the `--root` reliability tests: a small compliant Linux root built in a temp
directory, the real `hostward audit --root R --json`, and the two ways links are resolved.

A module of its own (not conftest): several conftest.py exist and their names clash.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from testkit import HOSTWARD, ROOT, agent_env

from collectors.system import rootfs

TODAY = int(time.time() // 86400)
PASSWD = (
    "root:x:0:0:root:/root:/bin/bash\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "alice:x:1000:1000:Alice:/home/alice:/bin/bash\n"
)
SHADOW = (
    f"root:!:{TODAY - 5}:0:90:7:::\ndaemon:*:{TODAY - 5}:0:99999:7:::\nalice:$6$s$h:{TODAY - 5}:0:60:7:::\n"
)
LOGIN_DEFS = "# shadow-utils\nPASS_MAX_DAYS\t90\nPASS_MIN_DAYS 0\n"
BLOCK_USB = "install usb-storage /bin/false\nblacklist usb-storage\ninstall uas /bin/false\nblacklist uas\n"
# An empty password for every account: a check that read this file would fail.
OUTSIDE_SHADOW = "root::19000:0:99999:7:::\nalice::19000:0:99999:7:::\n"
ACCOUNT_CHECKS = ("pwd.login_password_set", "acc.no_shared_accounts", "pwd.max_age")


def write(root: Path, path: str, content: str | bytes) -> Path:
    full = root / path.lstrip("/")
    full.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        full.write_bytes(content)
    else:
        full.write_text(content, encoding="utf-8")
    return full


def build_root(base: Path) -> Path:
    """A compliant image: accounts, login.defs, USB storage blocked by modprobe.d."""
    root = base / "image"
    write(root, "/etc/passwd", PASSWD)
    write(root, "/etc/shadow", SHADOW)
    write(root, "/etc/login.defs", LOGIN_DEFS)
    write(root, "/etc/modprobe.d/hostward-usb.conf", BLOCK_USB)
    return root


def audit(root: Path, *checks: str, config: str = "", timeout: float = 30) -> dict[str, dict[str, Any]]:
    """{check id: result} of the real `hostward audit --root ROOT --json --check ...`; raises
    subprocess.TimeoutExpired if the process does not exit in `timeout` seconds."""
    cfg = root.parent / "hostward-test.yaml"
    cfg.write_text(config, encoding="utf-8")
    argv = [str(HOSTWARD), "audit", "-c", str(cfg), "--root", str(root), "--json"]
    for check in checks:
        argv += ["--check", check]
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, env=agent_env(), cwd=ROOT, check=False
    )
    assert done.returncode in (0, 1, 2), done.stderr
    return {r["check"]: r for r in json.loads(done.stdout)["results"]}


@pytest.fixture(params=["openat2", "walk"])
def resolver(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each in-process test runs twice: links resolved by the kernel (openat2 RESOLVE_IN_ROOT)
    and by the component walk used where the syscall is missing or filtered."""
    if request.param == "openat2" and not rootfs.OPENAT2.enabled:
        pytest.skip("this kernel has no openat2")
    monkeypatch.setattr(rootfs.OPENAT2, "enabled", request.param == "openat2")
    yield request.param
