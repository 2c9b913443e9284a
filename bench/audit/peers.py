"""`python -m bench.audit.peers`: Lynis (Debian package `lynis`) and hostward side by side.

Both audit the same systems: this live host, and two disk trees built here (a compliant one
and a broken one) given to Lynis as `--rootdir` and to hostward as `--root`. For the controls
both cover, the table shows each tool's verdict and whether they agree; docs/AUDIT-PEERS.md
explains every disagreement. A bench, not a test: the figures depend on this machine.

Lynis verdicts: `fail` when its report file holds a warning or suggestion of that test (whose
text matches the control, where one test covers several things), `pass` when the test ran
without one, `skipped` when Lynis skipped it (its prerequisites not met).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from policies.schema import Role

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "policies"))  # the tests' compliant tree


@dataclass(frozen=True)
class Control:
    name: str
    lynis_test: str
    lynis_text: str  # regex on the report line; "" for any finding of the test
    check: str


CONTROLS: tuple[Control, ...] = (
    Control("USB storage blocked", "USB-1000", "", "usb.storage_blocked"),
    Control("Maximum password age", "AUTH-9286", "maximum password age", "pwd.max_age"),
    Control("Password strength (PAM)", "AUTH-9262", "", "pwd.complexity_linux"),
    Control("No account without password", "AUTH-9283", "", "pwd.login_password_set"),
    Control("Antivirus installed", "MALW-3280", "", "av.installed_running"),
    Control("ClamAV signatures kept current", "MALW-3286", "", "av.signatures_current"),
    Control("Host firewall on", "FIRE-4590", "", "sys.firewall_on"),
    Control("SSH root login off", "SSH-7408", "PermitRootLogin", "ssh.root_login_off"),
    Control("Audit daemon", "ACCT-9628", "", "sys.audit_logging"),
    Control("Time synchronisation", "TIME-3104", "", "sys.time_sync"),
)
ROLE: Role = "clinical_terminal"  # every control above applies to it


def lynis_verdicts(lynis: str, rootdir: str, work: Path) -> dict[str, str]:
    report, log = work / "report.dat", work / "lynis.log"
    tests = " ".join(sorted({c.lynis_test for c in CONTROLS}))
    argv = [lynis, "audit", "system", "--quick", "--no-colors", "--tests", tests,
            "--report-file", str(report), "--log-file", str(log)]  # fmt: skip
    if rootdir != "/":
        argv += ["--rootdir", rootdir.rstrip("/") + "/"]  # Lynis joins "${ROOTDIR}etc/..."
    subprocess.run(argv, capture_output=True, timeout=300, check=False)
    lines = report.read_text(encoding="utf-8", errors="replace").splitlines()
    executed = next((ln.split("=", 1)[1].split("|") for ln in lines if ln.startswith("tests_executed=")), [])
    findings = [ln for ln in lines if ln.startswith(("warning[]=", "suggestion[]="))]
    out = {}
    for c in CONTROLS:
        if c.lynis_test not in executed:
            out[c.check] = "skipped"
            continue
        hit = [f for f in findings if f.split("=", 1)[1].startswith(c.lynis_test + "|")]
        if c.lynis_text:
            hit = [f for f in hit if re.search(c.lynis_text, f, re.IGNORECASE)]
        out[c.check] = "fail" if hit else "pass"
    return out


def hostward_verdicts(root: str) -> dict[str, str]:
    from policies.audit import run
    from policies.config import AuditConfig

    report = run(AuditConfig(), ROLE, root=root, only=[c.check for c in CONTROLS]).report
    return {r.check: r.status for r in report.results}


def build_trees(base: Path) -> dict[str, Path]:
    from policies_kit import TODAY, compliant_files, write  # type: ignore[import-not-found]

    trees = {}
    for name in ("compliant", "broken"):
        root = base / name
        for path, content in compliant_files().items():
            write(root, path, content)
        trees[name] = root
    broken = trees["broken"]
    write(
        broken, "/etc/modprobe.d/hostward-usb.conf", "install usb-storage /bin/false\nblacklist usb-storage\n"
    )
    write(broken, "/etc/login.defs", "PASS_MAX_DAYS 99999\nPASS_MIN_DAYS 0\n")
    write(broken, "/etc/pam.d/common-password", "password [success=1 default=ignore] pam_unix.so obscure\n")
    write(broken, "/etc/ssh/sshd_config", "PermitRootLogin yes\n")
    shadow = broken / "etc/shadow"
    shadow.write_text(shadow.read_text() + f"carol::{TODAY}:0:90:7:::\n")
    passwd = broken / "etc/passwd"
    passwd.write_text(passwd.read_text() + "carol:x:1002:1002:Carol:/home/carol:/bin/bash\n")
    write(broken, "/var/lib/clamav/daily.cvd", b"")
    return trees


def main() -> int:
    lynis = shutil.which("lynis") or ("/usr/sbin/lynis" if Path("/usr/sbin/lynis").exists() else None)
    if lynis is None:
        print("lynis: not installed (Debian package lynis, in scripts/debian-deps.sh); nothing to compare")
        return 0
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="hostward-peers-") as tmp:
        trees = build_trees(Path(tmp))
        for scenario, root in (("live host", "/"), ("compliant tree", str(trees["compliant"])),
                               ("broken tree", str(trees["broken"]))):  # fmt: skip
            work = Path(tmp) / f"lynis-{len(rows)}"
            work.mkdir()
            started = time.monotonic()
            theirs = lynis_verdicts(lynis, root, work)
            lynis_s = time.monotonic() - started
            started = time.monotonic()
            ours = hostward_verdicts(root)
            ours_s = time.monotonic() - started
            print(f"{scenario}: lynis {lynis_s:.1f} s, hostward {ours_s:.2f} s")
            for c in CONTROLS:
                rows.append((c.name, scenario, theirs[c.check], ours.get(c.check, "-")))
    print()
    header = ("control", "system", "lynis", "hostward", "agree")
    table = [header] + [(n, s, a, b, _agree(a, b)) for n, s, a, b in rows]
    widths = [max(len(r[i]) for r in table) for i in range(5)]
    for r in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    judged = [r for r in table[1:] if r[4] in ("yes", "NO")]
    agreed = sum(1 for r in judged if r[4] == "yes")
    print(f"\nagreement where both judged: {agreed}/{len(judged)} (disagreements: docs/AUDIT-PEERS.md)")
    return 0


def _agree(lynis: str, hostward: str) -> str:
    if lynis == "skipped" or hostward in ("not_applicable", "-"):
        return "n/a"
    ours = {"pass": "pass", "fail": "fail"}.get(hostward, "error")
    if ours == "error":
        return "n/a"
    return "yes" if ours == lynis else "NO"


if __name__ == "__main__":
    sys.exit(main())
