"""Shared fixtures: a compliant Linux root tree built in tmp_path, and helpers to run checks."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from collectors.system.runner import CommandResult, SubprocessRunner
from common.schema import Duration
from policies.config import IsolationConfig, ParameterOverride, PersonExemption, Waiver
from policies.context import AuditInputs, Leaver, Target
from policies.engine import run_audit
from policies.library import Library, load_library
from policies.result import CheckResult

# A DNS canary nothing answers on (closed loopback UDP port 1; waited for 0.1 s): isolation
# checks with no canary at all are an error ("not configured").
SILENT_CANARY = IsolationConfig(dns_canaries=("127.0.0.1:1",), timeout=Duration(0.1))
NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = int(NOW.timestamp() // 86400)
FIXTURES = Path(__file__).parent / "fixtures"
SECURITY_LIST = "/var/lib/apt/lists/deb.debian.org_debian-security_dists_bookworm-security"


def cvd_header(
    build: datetime, version: int = 27100, sigs: int = 2045000, builder: str = "hostward"
) -> bytes:
    """A real .cvd header as freshclam writes it (text time uses HH-MM, as ClamAV does)."""
    text = build.strftime("%d %b %Y %H-%M %z")
    md5 = "0123456789abcdef0123456789abcdef"
    head = f"ClamAV-VDB:{text}:{version}:{sigs}:90:{md5}:X:{builder}:{int(build.timestamp())}"
    return head.encode().ljust(512, b" ")


def write(root: Path, path: str, content: str | bytes) -> Path:
    full = root / path.lstrip("/")
    full.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        full.write_bytes(content)
    else:
        full.write_text(content, encoding="utf-8")
    return full


def local(dt: datetime, fmt: str) -> str:
    return dt.astimezone().strftime(fmt)


def compliant_files() -> dict[str, str | bytes]:
    recent = NOW - timedelta(days=1)
    return {
        "/etc/passwd": (
            "root:x:0:0:root:/root:/bin/bash\n"
            "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
            "alice:x:1000:1000:Alice:/home/alice:/bin/bash\n"
            "bob:x:1001:1001:Bob:/home/bob:/bin/bash\n"
        ),
        "/etc/shadow": (
            "root:!:19000:0:99999:7:::\n"
            "daemon:*:19000:0:99999:7:::\n"
            f"alice:$6$salt$hash:{TODAY - 10}:0:90:7:::\n"
            f"bob:$6$salt$hash:{TODAY - 30}:0:60:7:::\n"
        ),
        "/etc/group": "root:x:0:\nalice:x:1000:\nbob:x:1001:\n",
        "/etc/gshadow": "root:*::\nalice:!::\nbob:!::\n",
        "/etc/login.defs": "# defaults\nPASS_MAX_DAYS\t90\nPASS_MIN_DAYS 0\n",
        "/etc/modprobe.d/hostward-usb.conf": "".join(
            f"install {m} /bin/false\nblacklist {m}\n"
            for m in ("usb-storage", "uas", "sr_mod", "cdrom", "floppy")
        ),
        "/proc/modules": "ext4 1000 1 - Live 0x0\nvfat 20000 0 - Live 0x0\n",
        "/proc/mounts": "/dev/sda1 / ext4 rw 0 0\nproc /proc proc rw 0 0\n",
        "/proc/self/stat": "1 (init) S\n",
        "/proc/101/comm": "clamd\n",
        "/proc/102/comm": "freshclam\n",
        "/proc/103/comm": "clamonacc\n",
        "/proc/104/comm": "bash\n",
        "/proc/net/tcp": (
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt"
            "   uid  timeout inode\n"
            "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1\n"
            "   1: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2\n"
        ),
        "/sys/block/sda/removable": "0\n",
        "/etc/security/pwquality.conf": "minlen = 8\nminclass = 3\n",
        "/etc/pam.d/common-password": "password requisite pam_pwquality.so retry=3\n",
        "/etc/security/faillock.conf": "deny = 5\nunlock_time = 900\n",
        "/etc/pam.d/common-auth": "auth required pam_faillock.so preauth\n",
        "/etc/ssh/sshd_config": "PermitRootLogin no\nPermitEmptyPasswords no\n",
        "/etc/sysctl.d/60-hostward-noforward.conf": "net.ipv4.ip_forward = 0\n",
        "/proc/sys/net/ipv4/ip_forward": "0\n",
        "/var/lib/dpkg/status": "".join(
            f"Package: {p}\nStatus: install ok installed\nVersion: {v}\n\n"
            for p, v in (
                ("clamav", "1.4.3"),
                ("clamav-daemon", "1.4.3"),
                ("clamav-freshclam", "1.4.3"),
                ("vim", "9.1"),
                ("openssh-server", "9.2"),
            )
        )
        + "Package: nmap\nStatus: deinstall ok config-files\nVersion: 7.93\n",
        "/var/lib/clamav/daily.cvd": cvd_header(recent),
        "/var/lib/clamav/main.cvd": cvd_header(NOW - timedelta(days=300), version=62, builder="sigmgr"),
        "/var/log/clamav/clamscan.log": (
            "----------- SCAN SUMMARY -----------\nScanned files: 10\nInfected files: 0\n"
            f"Start Date: {local(recent, '%Y:%m:%d %H:%M:%S')}\n"
            f"End Date:   {local(recent, '%Y:%m:%d %H:%M:%S')}\n"
        ),
        "/var/log/apt/history.log": (
            f"\nStart-Date: {local(recent, '%Y-%m-%d  %H:%M:%S')}\nCommandline: apt-get upgrade -y\n"
            "Upgrade: openssl:amd64 (3.0.1, 3.0.2), libc6:amd64 (2.36-1, 2.36-2)\n"
            f"End-Date: {local(recent, '%Y-%m-%d  %H:%M:%S')}\n"
        ),
        SECURITY_LIST + "_InRelease": (
            "Origin: Debian\nLabel: Debian-Security\nSuite: stable-security\nCodename: bookworm-security\n"
        ),
        SECURITY_LIST + "_main_binary-amd64_Packages": (
            "Package: clamav\nVersion: 1.4.3\n\nPackage: vim\nVersion: 9.1\n"
        ),
        "/etc/dconf/db/local.d/00-screensaver": (
            "[org/gnome/desktop/session]\nidle-delay=uint32 300\n\n"
            "[org/gnome/desktop/screensaver]\nlock-enabled=true\n"
        ),
        "/etc/clamav/clamd.conf": "LocalSocket /run/clamav/clamd.ctl\nOnAccessIncludePath /media\n",
        "/sys/bus/usb/devices/1-1/idVendor": "0951\n",
        "/sys/bus/usb/devices/1-1/idProduct": "1666\n",
        "/sys/bus/usb/devices/1-1/manufacturer": "Kingston\n",
        "/sys/bus/usb/devices/1-1/product": "DataTraveler 3.0\n",
        "/sys/bus/usb/devices/1-1/serial": "60A44C413A8F\n",
        "/sys/bus/usb/devices/1-1:1.0/bInterfaceClass": "08\n",
    }


@pytest.fixture
def linux_root(tmp_path: Path) -> Path:
    """A compliant Linux system tree; tests break one thing each."""
    root = tmp_path / "root"
    for path, content in compliant_files().items():
        write(root, path, content)
    return root


class RecordedRunner:
    """Replays recorded outputs keyed by argv (for `ip -j ...` and PowerShell scripts).

    An argv without a recording raises, as a missing program would: a test cannot pass by
    accident on an output nobody recorded.
    """

    def __init__(
        self, outputs: Mapping[tuple[str, ...], bytes | CommandResult], registry: Any = None
    ) -> None:
        self.outputs = dict(outputs)
        self.registry = registry  # recorded Windows registry values (memory_registry), if any
        self.calls: list[tuple[str, ...]] = []
        self.envs: list[Mapping[str, str] | None] = []

    def run(
        self, argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None, **_: Any
    ) -> CommandResult:
        key = tuple(argv)
        self.calls.append(key)
        self.envs.append(env)
        if key not in self.outputs:
            from common.errors import CommandNotFound

            raise CommandNotFound(key[0], f"no recording for {key[-1][:60]!r}")
        out = self.outputs[key]
        if isinstance(out, CommandResult):
            return out
        return CommandResult(key, 0, out, b"", 0.01)


def ip_outputs(
    links: list[Any], addrs: list[Any], routes4: list[Any], routes6: list[Any] | None = None
) -> dict[tuple[str, ...], bytes]:
    return {
        ("ip", "-j", "link", "show"): json.dumps(links).encode(),
        ("ip", "-j", "addr", "show"): json.dumps(addrs).encode(),
        ("ip", "-j", "-4", "route", "show"): json.dumps(routes4).encode(),
        ("ip", "-j", "-6", "route", "show"): json.dumps(routes6 or []).encode(),
    }


@pytest.fixture(scope="session")
def library() -> Library:
    lib, problems = load_library()
    assert problems == []
    return lib


AuditFn = Callable[..., CheckResult]


@pytest.fixture
def check(library: Library) -> AuditFn:
    """check(root, check_id, role=..., platform=..., runner=..., leavers=..., ...) -> CheckResult."""

    def run(
        root: Path | str,
        check_id: str,
        *,
        role: str = "office_pc",
        platform: str = "linux",
        runner: Any = None,
        leavers: tuple[Leaver, ...] | None = None,
        live: bool = True,
        baseline: Mapping[str, Any] | None = None,
        isolation: IsolationConfig | None = None,
        waivers: Sequence[Waiver] = (),
        leavers_error: str = "",
        now: datetime = NOW,
        overrides: Sequence[ParameterOverride] = (),
        exemptions: Sequence[PersonExemption] = (),
        assets: Mapping[str, str] | None = None,
        assets_error: str = "",
    ) -> CheckResult:
        target = Target("pc-01", role, platform, str(root), live)  # type: ignore[arg-type]
        inputs = AuditInputs(
            leavers=leavers,
            leavers_source="leavers.csv",
            leavers_error=leavers_error,
            isolation=isolation or SILENT_CANARY,
            network_baseline=baseline,
            assets=assets,
            assets_source="assets.csv",
            assets_error=assets_error,
        )
        report = run_audit(
            library,
            target,
            runner or SubprocessRunner(),
            inputs,
            only=[check_id],
            waivers=waivers,
            exemptions=exemptions,
            overrides=overrides,
            now=now,
            timeout=10,
            registry=getattr(runner, "registry", None),
        )
        assert len(report.results) == 1
        return report.results[0]

    return run


def elapsed(fn: Callable[[], Any]) -> float:
    started = time.monotonic()
    fn()
    return time.monotonic() - started
