"""The Windows service, on pywin32's service framework (`win32serviceutil.ServiceFramework`).

The bundle's `pythonservice.exe` (next to `python.exe`) hosts the class
`agent.winservice.HostwardService`; the service runs the same daemon as `hostward run`, in a
worker thread, with the config file recorded at install time (service parameter `config`).
SvcStop sets the daemon's stop event: running jobs are finished or cancelled, state and journal
closed, and the service reports STOPPED. The config is reloaded when its file changes (there is
no SIGHUP on Windows; agent/control.py). Installed as LocalSystem, automatic start, restarted
by the service manager after a failure.

`install_spec` holds everything `hostward service install` registers, so it is unit-tested on
Linux; the pywin32 calls themselves run on Windows (tests/windows, under Wine).
"""

from __future__ import annotations

import faulthandler
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PureWindowsPath
from typing import Any

from common.frozen import frozen

SERVICE_NAME = "hostward"
DISPLAY_NAME = "hostward agent"
DESCRIPTION = "Host health, written IT rules and dual backups; /metrics and a status page. 主机健康与合规代理"
CLASS_STRING = "agent.winservice.HostwardService"
CONFIG_OPTION = "config"
STOP_WAIT_HINT_MS = 30_000  # the service manager waits this long for a clean stop
RESTART_DELAYS_MS = (10_000, 60_000, 300_000)  # after the 1st, 2nd, later failures


@frozen
class InstallSpec:
    """What `hostward service install` registers."""

    name: str
    display_name: str
    description: str
    class_string: str
    host_exe: str  # pythonservice.exe of this Python
    config: str  # absolute path of the config file, stored as the `config` service parameter


def install_spec(python_exe: str, config: str) -> InstallSpec:
    """The service for the Python at `python_exe` (the bundle's python.exe) and `config`.
    Raises ValueError when the config path is not absolute (a service has no useful cwd)."""
    path = PureWindowsPath(config)
    if not path.is_absolute():
        raise ValueError(f"the config path must be absolute for a service: {config}")
    host = str(PureWindowsPath(python_exe).parent / "pythonservice.exe")
    return InstallSpec(SERVICE_NAME, DISPLAY_NAME, DESCRIPTION, CLASS_STRING, host, str(path))


SERVICE_LOG = "service.log"


def run_service(config: str, stop: threading.Event) -> int:
    """Run the daemon until `stop` is set (the service's SvcStop). Returns its exit code.

    A service has no console: standard output and error (the banner, the log lines) go to
    `service.log` in the state directory, or next to the config while the config is invalid.
    pythonservice.exe calls this without `agent.cli.main`, so the console policy is applied
    here too: whatever still reaches the process's own streams is replaced, never a crash."""
    from agent import console, daemon, jobs
    from agent.config import SchemaError, load_config

    console.setup()

    try:
        loaded = load_config(config)
    except SchemaError as exc:
        with _console(Path(config).parent):
            for problem in exc.problems:
                print(problem, file=sys.stderr)
        return 2
    with _console(loaded.state_dir):
        return daemon.serve(loaded, config, lambda: jobs.JOBS, out=sys.stdout, stop=stop)


@contextmanager
def _console(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    saved = sys.stdout, sys.stderr
    with open(directory / SERVICE_LOG, "a", encoding="utf-8", errors="replace", buffering=1) as fh:
        sys.stdout = sys.stderr = fh
        faulthandler.enable(fh)  # a crash of the service process leaves its traceback here
        try:
            yield
        finally:
            sys.stdout, sys.stderr = saved


if sys.platform == "win32":  # pragma: no cover - Windows (tested under Wine)
    import servicemanager
    import win32service
    import win32serviceutil

    class HostwardService(win32serviceutil.ServiceFramework):  # type: ignore[misc]
        """The Windows service: the daemon in a worker thread, stopped through its stop event."""

        _svc_name_ = SERVICE_NAME
        _svc_display_name_ = DISPLAY_NAME
        _svc_description_ = DESCRIPTION

        def __init__(self, args: Any) -> None:
            super().__init__(args)
            self.stop = threading.Event()

        def SvcStop(self) -> None:
            self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING, waitHint=STOP_WAIT_HINT_MS)
            self.stop.set()

        def SvcDoRun(self) -> None:
            config = win32serviceutil.GetServiceCustomOption(SERVICE_NAME, CONFIG_OPTION)
            servicemanager.LogInfoMsg(f"hostward service starting with {config}")
            try:
                code = run_service(str(config or ""), self.stop)
            except BaseException as exc:
                servicemanager.LogErrorMsg(f"hostward service failed: {type(exc).__name__}: {exc}")
                raise
            servicemanager.LogInfoMsg(f"hostward service stopped (exit {code})")
            if code != 0:  # the service manager's recovery restarts it
                raise SystemExit(code)
