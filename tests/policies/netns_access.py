"""Run NET-6/NET-7 inside a network namespace (started by test_net_devices_access.py).

Usage: python netns_access.py CONFIG_JSON -> the audit report as JSON. CONFIG_JSON holds the
asset register (MAC -> name), the internet-access classes, this host's class and "talk_to":
addresses contacted first, as a PC's normal traffic would, so the neighbour table is filled.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys

from collectors.system.runner import SubprocessRunner
from common.schema import Duration
from policies.config import AccessClass, InternetAccessConfig, IsolationConfig
from policies.context import AuditInputs, Target
from policies.engine import run_audit
from policies.library import load_library


def main() -> None:
    raw = json.loads(sys.argv[1])
    for host, port in raw.get("talk_to", []):
        with socket.socket() as s, contextlib.suppress(OSError):  # a refusal still resolves the neighbour
            s.settimeout(1.0)
            s.connect((host, port))
    access = InternetAccessConfig(
        classes=tuple(
            AccessClass(c["name"], tuple(c.get("allowed", ())), tuple(c.get("denied", ())))
            for c in raw["classes"]
        ),
        host_class=raw.get("host_class", ""),
    )
    inputs = AuditInputs(
        assets=raw.get("assets"),
        assets_source="assets.csv",
        internet_access=access,
        isolation=IsolationConfig(timeout=Duration(1.0)),
    )
    library, _ = load_library()
    report = run_audit(
        library,
        Target("pc-b1", "office_pc", "linux"),
        SubprocessRunner(),
        inputs,
        only=["net.no_unknown_devices", "net.internet_by_class"],
        timeout=5,
    )
    print(json.dumps(report.to_json(), ensure_ascii=False))


if __name__ == "__main__":
    main()
