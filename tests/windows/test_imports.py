"""Every hostward module imports on Windows CPython: no fcntl, resource, pwd or grp on the way.

One gap is Wine's, not hostward's: the Rust-built extensions of bcrypt and cryptography import
bcryptprimitives.dll!ProcessPrng (Windows 10's CSPRNG entry point, which Rust's standard library
uses since 1.78); Wine 8 (Debian 12) does not provide it, so those two imports fail here with
"DLL load failed". The test accepts exactly that, and only while this Wine lacks ProcessPrng.
"""

from __future__ import annotations

import json

from wine_kit import WineBox

IMPORT_ALL = """
import importlib, json, pkgutil, sys
failed, names = {}, []
for top in ("agent", "collectors", "common", "policies", "backup"):
    package = importlib.import_module(top)
    names.append(top)
    walk_error = lambda name: failed.setdefault(name, "walk")
    for info in pkgutil.walk_packages(package.__path__, top + ".", onerror=walk_error):
        if info.name.endswith(".__main__"):
            continue  # `python -m agent`: importing it runs the CLI
        names.append(info.name)
        try:
            importlib.import_module(info.name)
        except Exception as exc:
            failed[info.name] = f"{type(exc).__name__}: {exc}"
import ctypes
try:
    ctypes.WinDLL("bcryptprimitives").ProcessPrng
    prng = True
except (OSError, AttributeError):
    prng = False
posix_only = [m for m in ("fcntl", "resource", "pwd", "grp", "termios") if m in sys.modules]
print(json.dumps({"names": names, "failed": failed, "posix_only": posix_only, "platform": sys.platform,
                  "process_prng": prng}))
"""


def test_every_hostward_module_imports_on_windows_cpython(wine_box: WineBox) -> None:
    done = wine_box.python("-c", IMPORT_ALL)
    assert done.returncode == 0, done.describe()
    report = json.loads(done.out("cp1252"))
    assert report["platform"] == "win32"
    rust_needs_prng = {
        "agent.commands.hash_password_cmd": "_bcrypt",
        "collectors.devices.snmp_usm": "_rust",
        # the trap receiver decodes SNMPv3 (HMAC, AES) with cryptography, as polling does
        "collectors.devices.traps": "_rust",
        "agent.traps.effects": "_rust",
        "agent.traps.receiver": "_rust",
    }
    if report["process_prng"]:
        assert report["failed"] == {}
    else:
        assert set(report["failed"]) <= set(rust_needs_prng), report["failed"]
        for module, message in report["failed"].items():
            assert f"DLL load failed while importing {rust_needs_prng[module]}" in message
    assert report["posix_only"] == []
    names = set(report["names"])
    for expected in ("agent.journal", "agent.watchdog", "policies.undo", "collectors.system.runner",
                     "collectors.host_platform", "backup.restic", "agent.daemon", "agent.console"):
        assert expected in names
    assert len(names) > 100
