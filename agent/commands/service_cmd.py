"""`hostward service install|remove|start|stop|status` (Windows): the pywin32 service.

`install -c FILE` checks the config, registers the service (LocalSystem, automatic start,
restart after a failure) hosted by the bundle's pythonservice.exe, and records FILE as its
config. On Linux the service is the systemd unit (packaging/systemd): this command exits 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from agent.commands import common

WAIT_SECONDS = 30  # an int: pywin32 counts quarter seconds with range()


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "service",
        help="the Windows service: install, remove, start, stop, status / Windows 服务",
        description="Manage the hostward Windows service (pywin32). Run elevated.",
    )
    p.add_argument("action", choices=("install", "remove", "start", "stop", "status"))
    common.add_config_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if sys.platform == "win32":  # pragma: no cover - Windows (tested under Wine)
        return _windows(args)
    print(
        "hostward: the Windows service exists on Windows only; on Linux install "
        "packaging/systemd/hostward.service",
        file=sys.stderr,
    )
    return common.EXIT_USAGE


def _windows(args: argparse.Namespace) -> int:  # pragma: no cover - Windows (tested under Wine)
    import pywintypes
    import win32service
    import win32serviceutil

    from agent import winservice

    name = winservice.SERVICE_NAME
    try:
        if args.action == "install":
            return _install(args, win32service, win32serviceutil)
        if args.action == "remove":
            win32serviceutil.RemoveService(name)
            print("hostward service: removed")
            return common.EXIT_OK
        if args.action == "start":
            win32serviceutil.StartService(name)
            win32serviceutil.WaitForServiceStatus(name, win32service.SERVICE_RUNNING, WAIT_SECONDS)
        elif args.action == "stop":
            win32serviceutil.StopService(name)
            win32serviceutil.WaitForServiceStatus(name, win32service.SERVICE_STOPPED, WAIT_SECONDS)
        state = _state(win32service, win32serviceutil.QueryServiceStatus(name)[1])
        print(f"hostward service: {state}")
    except pywintypes.error as exc:
        print(f"hostward: service {args.action} failed: {exc.strerror} ({exc.winerror})", file=sys.stderr)
        return common.EXIT_FAILED
    return common.EXIT_OK


def _install(args: argparse.Namespace, win32service: Any, win32serviceutil: Any) -> int:  # pragma: no cover
    from agent import winservice

    if not args.config:
        print("hostward: service install needs -c FILE (the config the service runs with)", file=sys.stderr)
        return common.EXIT_USAGE
    config = os.path.abspath(args.config)
    common.load(argparse.Namespace(config=config))  # an invalid config: problems listed, exit 2
    spec = winservice.install_spec(sys.executable, config)
    if not os.path.isfile(spec.host_exe):
        print(f"hostward: {spec.host_exe} is missing (install from the bundle)", file=sys.stderr)
        return common.EXIT_FAILED
    win32serviceutil.InstallService(
        spec.class_string,
        spec.name,
        spec.display_name,
        startType=win32service.SERVICE_AUTO_START,
        exeName=spec.host_exe,
        description=spec.description,
    )
    win32serviceutil.SetServiceCustomOption(spec.name, winservice.CONFIG_OPTION, spec.config)
    _restart_on_failure(win32service, spec.name)
    print(f"hostward service: installed ({spec.host_exe}, config {spec.config})")
    return common.EXIT_OK


def _restart_on_failure(win32service: Any, name: str) -> None:  # pragma: no cover - Windows
    from agent import winservice

    manager = win32service.OpenSCManager(None, None, win32service.SC_MANAGER_ALL_ACCESS)
    try:
        handle = win32service.OpenService(manager, name, win32service.SERVICE_ALL_ACCESS)
        try:
            actions = [(win32service.SC_ACTION_RESTART, delay) for delay in winservice.RESTART_DELAYS_MS]
            win32service.ChangeServiceConfig2(
                handle,
                win32service.SERVICE_CONFIG_FAILURE_ACTIONS,
                {"ResetPeriod": 86400, "RebootMsg": None, "Command": None, "Actions": actions},
            )
        finally:
            win32service.CloseServiceHandle(handle)
    finally:
        win32service.CloseServiceHandle(manager)


def _state(win32service: Any, code: int) -> str:  # pragma: no cover - Windows
    names = {
        win32service.SERVICE_STOPPED: "stopped",
        win32service.SERVICE_START_PENDING: "starting",
        win32service.SERVICE_STOP_PENDING: "stopping",
        win32service.SERVICE_RUNNING: "running",
    }
    return names.get(code, f"state {code}")
