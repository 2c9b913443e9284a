r"""Run hostward's Windows bundle (`make windows-bundle`) under Wine: the kit for tests/windows.

Stable API (other suites build on it; the fixtures are in tests/windows/conftest.py):

- `bundle_zip() -> Path`: builds dist/hostward-<version>-win64.zip, or reuses it when its
  inputs (lock file, builder, hostward's sources) are unchanged.
- `WineBox.create(root, bundle) -> WineBox`: a private WINEPREFIX under `root`, copied from a
  template prefix made once per Wine version by `wineboot` (cached under build/wine/; Windows
  version set to Windows 10), with the bundle unpacked at `C:\Program Files\hostward`. The Z:
  drive (Wine's view of the Linux root) is removed: the Windows side sees only C:.
  A persistent wineserver runs for the box, and Wine's own services are started with no test's
  pipes (else they would inherit one and hold it open); `box.close()` stops them.
- `box.hostward(*args, codepage="cp1252", env=None, cwd=None, stdin=b"", timeout=120)
  -> WineResult`: runs `python\Scripts\hostward.exe` (the bundle's launcher). `codepage` is
  "cp1252" (Western, LANG=en_US.UTF-8) or "cp936" (Simplified Chinese, LANG=zh_CN.UTF-8):
  Wine derives the ANSI/OEM code page from the locale. stdout/stderr are pipes, as under
  Ansible's win_command or a scheduled task, captured as bytes. `env` adds variables; the base
  environment is minimal (no PYTHON*, no HOSTWARD_* from the caller). `cwd` is a Linux path
  inside the prefix (default: C:\hostward-tests).
- `box.python(*args, ...)`: the same for the bundle's `python.exe`;
  `box.run(program, *args, ...)` for any program under `python\` (e.g. "pythonservice.exe").
- `box.start_hostward(*args, codepage=..., env=...) -> WineProcess`: in the background;
  `proc.alive()`, `proc.stop()` (kills the launcher and its python.exe),
  `proc.output()` (stdout, stderr bytes after stop), `proc.python_pid()` (the Linux pid of the
  Windows python.exe, for RSS: Wine starts it as a Linux process of its own, not a child of the
  launcher; it is found by prefix, command line and start time).
- `box.win_path(path) -> str` / `box.unix_path(r"C:\...") -> Path`; `box.scratch(name)`: a
  fresh empty folder under C:\hostward-tests (a Linux Path; pass `box.win_path(...)` to hostward).
- `require_wine()`: Wine missing fails the suite (CI is Debian as root and installs it);
  it skips, with the reason, only when not root AND not on Debian.

Headless: no DISPLAY is passed, WINEDEBUG=-all, Mono/Gecko installs are disabled.
Note: under Wine 8 a Windows program whose stdout is a regular Linux file cannot open its
standard streams ("init_sys_streams ... Invalid handle"), so the kit always uses pipes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILDER = ROOT / "packaging" / "windows" / "build_bundle.py"
WINE_CACHE = ROOT / "build" / "wine"
INSTALL = r"C:\Program Files\hostward"
LOCALES = {"cp1252": "en_US.UTF-8", "cp936": "zh_CN.UTF-8"}
TESTS_DIR = r"C:\hostward-tests"


@dataclass(frozen=True)
class WineResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes

    def out(self, codepage: str) -> str:
        return self.stdout.decode(codepage)

    def err(self, codepage: str) -> str:
        return self.stderr.decode(codepage)

    def describe(self) -> str:
        return (f"{self.argv} exited {self.returncode}\nstdout: {self.stdout[-3000:]!r}\n"
                f"stderr: {self.stderr[-3000:]!r}")


def require_wine() -> str:
    """The wine program; fails (or, off Debian as a normal user, skips) when it is missing."""
    wine = shutil.which("wine")
    if wine is not None:
        return wine
    if os.geteuid() != 0 and not Path("/etc/debian_version").exists():
        pytest.skip("Wine is not installed and this is not Debian as root: install wine (docs/WINDOWS.md)")
    pytest.fail("Wine is missing: scripts/debian-deps.sh test installs wine, wine64 and locales-all")


def bundle_zip() -> Path:
    """The bundle zip, rebuilt only when its inputs changed."""
    done = subprocess.run([sys.executable, str(BUILDER), "build", "--reuse"],
                          capture_output=True, text=True, check=False, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"building the Windows bundle failed:\n{done.stderr}")
    return Path(done.stdout.strip().splitlines()[-1])


def base_env(prefix: Path, codepage: str = "cp1252") -> dict[str, str]:
    locale = LOCALES[codepage]
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "WINEPREFIX": str(prefix),
        "WINEDEBUG": "-all",
        "WINEDLLOVERRIDES": "mscoree,mshtml=",
        "LANG": locale,
        "LC_ALL": locale,
    }


def wine_version() -> str:
    done = subprocess.run(["wine", "--version"], capture_output=True, text=True, check=True)
    return done.stdout.strip().replace("/", "_").replace(" ", "_")


def template_prefix() -> Path:
    """A booted prefix set to Windows 10, made once per Wine version (wineboot takes ~15 s)."""
    target = WINE_CACHE / f"template-{wine_version()}"
    if (target / "system.reg").is_file() and (target / ".complete").is_file():
        return target
    WINE_CACHE.mkdir(parents=True, exist_ok=True)
    work = WINE_CACHE / f"making-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    env = base_env(work)
    subprocess.run(["wineboot", "-i"], env=env, stdin=subprocess.DEVNULL, capture_output=True,
                   check=True, timeout=300)
    subprocess.run(["wine", "winecfg", "-v", "win10"], env=env, stdin=subprocess.DEVNULL,
                   capture_output=True, check=True, timeout=120)
    subprocess.run(["wineserver", "-w"], env=env, check=True, timeout=120)
    (work / ".complete").write_text("ok\n")
    if target.exists() and not (target / ".complete").is_file():
        shutil.rmtree(target, ignore_errors=True)  # a half-made one from an interrupted run
    try:
        work.rename(target)
    except OSError:  # another session made it meanwhile: use theirs
        if not (target / ".complete").is_file():
            raise
        shutil.rmtree(work, ignore_errors=True)
    return target


@dataclass
class WineProcess:
    """A Windows program started in the background. Wine starts the launcher's python.exe as a
    Linux process of its own (not a child of `popen`): it is found by prefix, command line and
    start time."""

    popen: subprocess.Popen[bytes]
    prefix: Path
    args: tuple[str, ...]
    started: float
    _out: tuple[bytes, bytes] | None = field(default=None)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def family(self) -> list[psutil.Process]:
        """The launcher's Linux process and the python.exe it started in this prefix."""
        found: list[psutil.Process] = []
        with contextlib.suppress(psutil.NoSuchProcess):
            found.append(psutil.Process(self.popen.pid))
        wanted = " ".join(self.args)
        for proc in psutil.process_iter():
            try:
                if proc.pid == self.popen.pid or proc.create_time() < self.started - 1:
                    continue
                line = " ".join(proc.cmdline())
                if ("python.exe" in line.lower() and wanted in line
                        and proc.environ().get("WINEPREFIX") == str(self.prefix)):
                    found.append(proc)
            except psutil.Error:
                continue
        return found

    def python_pid(self) -> int | None:
        """Linux pid of the Windows python.exe the launcher started (or None)."""
        for proc in self.family()[1:]:
            return proc.pid
        return None

    def stop(self, timeout: float = 20) -> tuple[bytes, bytes]:
        """Kill the launcher and its python.exe; (stdout, stderr) bytes."""
        if self._out is None:
            for proc in reversed(self.family()):
                with contextlib.suppress(psutil.Error):
                    proc.send_signal(signal.SIGKILL)
            self._out = self.popen.communicate(timeout=timeout)
        return self._out

    def output(self) -> tuple[bytes, bytes]:
        return self.stop()


@dataclass(frozen=True)
class WineBox:
    prefix: Path
    bundle: Path

    @classmethod
    def create(cls, root: Path, bundle: Path) -> WineBox:
        prefix = root / "prefix"
        shutil.copytree(template_prefix(), prefix, symlinks=True)
        (prefix / "dosdevices" / "z:").unlink(missing_ok=True)
        box = cls(prefix, bundle)
        with zipfile.ZipFile(bundle) as archive:
            archive.extractall(box.unix_path(r"C:\Program Files"))
        box.unix_path(TESTS_DIR).mkdir(parents=True, exist_ok=True)
        env = base_env(prefix)
        subprocess.run(["wineserver", "-p"], env=env, check=True, timeout=60)
        # Wine's own services (services.exe, explorer.exe, ...) start with the first program and
        # inherit its standard handles: start them here, holding none of a test's pipes.
        subprocess.run(["wine", "cmd", "/c", "exit"], env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=120)
        return box

    def close(self) -> None:
        subprocess.run(["wineserver", "-k"], env=base_env(self.prefix), check=False, timeout=60)

    @property
    def drive_c(self) -> Path:
        return self.prefix / "drive_c"

    def unix_path(self, win: str) -> Path:
        path = PureWindowsPath(win)
        if path.drive.upper() != "C:":
            raise ValueError(f"{win}: only C: exists in the box")
        return self.drive_c.joinpath(*path.parts[1:])

    def win_path(self, path: Path) -> str:
        rel = path.resolve().relative_to(self.drive_c.resolve())
        return str(PureWindowsPath("C:\\", *rel.parts))

    def scratch(self, name: str) -> Path:
        path = self.unix_path(TESTS_DIR) / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def _argv(self, program: str, args: tuple[str, ...]) -> list[str]:
        return ["wine", f"{INSTALL}\\python\\{program}", *args]

    def _env(self, codepage: str, env: dict[str, str] | None) -> dict[str, str]:
        return {**base_env(self.prefix, codepage), **(env or {})}

    def run(self, program: str, *args: str, codepage: str = "cp1252", env: dict[str, str] | None = None,
            cwd: Path | None = None, stdin: bytes = b"", timeout: float = 120) -> WineResult:
        argv = self._argv(program, args)
        done = subprocess.run(argv, input=stdin, capture_output=True, env=self._env(codepage, env),
                              cwd=cwd or self.unix_path(TESTS_DIR), timeout=timeout, check=False)
        return WineResult(tuple(args), done.returncode, done.stdout, done.stderr)

    def hostward(self, *args: str, codepage: str = "cp1252", env: dict[str, str] | None = None,
                 cwd: Path | None = None, stdin: bytes = b"", timeout: float = 120) -> WineResult:
        return self.run(r"Scripts\hostward.exe", *args, codepage=codepage, env=env, cwd=cwd,
                        stdin=stdin, timeout=timeout)

    def python(self, *args: str, codepage: str = "cp1252", env: dict[str, str] | None = None,
               cwd: Path | None = None, stdin: bytes = b"", timeout: float = 120) -> WineResult:
        return self.run("python.exe", *args, codepage=codepage, env=env, cwd=cwd, stdin=stdin,
                        timeout=timeout)

    def start_hostward(self, *args: str, codepage: str = "cp1252", env: dict[str, str] | None = None,
                       cwd: Path | None = None) -> WineProcess:
        started = time.time()
        popen = subprocess.Popen(self._argv(r"Scripts\hostward.exe", args), stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 env=self._env(codepage, env), cwd=cwd or self.unix_path(TESTS_DIR))
        return WineProcess(popen, self.prefix, args, started)
