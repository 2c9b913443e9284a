"""Windows services set to start automatically that are not running.

Read with the existing `services` PowerShell reader (Win32_Service Name, DisplayName, State,
StartMode; readers.py). Some automatic services stop by design (trigger-started or update
services that exit when done) and Win32_Service cannot tell them apart, so the names Zabbix's
official "Windows by Zabbix agent" template leaves out of its automatic-service discovery
(`{$SERVICE.NAME.NOT_MATCHES}`, its default) are left out here too.

An empty or failed reading raises NoEvidence (readers.read: Windows always has services): an
error, never "nothing stopped".
"""

from __future__ import annotations

import re
from typing import Any

from collectors.system.runner import Runner
from collectors.system.windows import readers
from collectors.system.windows.records import parse_services

BY_DESIGN = re.compile(
    r"^(?:RemoteRegistry|MMCSS|gupdate|SysmonLog|clr_optimization_v.+|sppsvc|gpsvc|Pml Driver HPZ12"
    r"|Net Driver HPZ12|MapsBroker|IntelAudioService|Intel\(R\) TPM Provisioning Service|dbupdate"
    r"|DoSvc|CDPUserSvc_.+|WpnUserService_.+|OneSyncSvc_.+|WbioSrvc|BITS|tiledatamodelsvc|GISvc"
    r"|ShellHWDetection|TrustedInstaller|TabletInputService|CDPSvc|wuauserv|edgeupdate|cbdhsvc_.+)$"
)


def stopped_automatic(data: Any) -> tuple[str, ...]:
    """Names of automatic services not running, by-design ones left out, sorted."""
    return tuple(
        sorted(
            s.name
            for s in parse_services(data)
            if s.start_mode.lower() == "auto" and not s.running and s.name and not BY_DESIGN.match(s.name)
        )
    )


def read_stopped_automatic(runner: Runner) -> tuple[str, ...]:
    return stopped_automatic(readers.read(runner, "services"))
