"""Run the NET checks inside a network namespace (started by test_isolation_netns.py).

Usage: python netns_audit.py ROLE ISOLATION_JSON [enforce]  -> prints the audit report (or, with
`enforce`, the change records of the network enforcement) as JSON.
"""

from __future__ import annotations

import json
import sys
from typing import cast

from collectors.system.runner import SubprocessRunner
from common.schema import Duration
from policies.config import IsolationConfig
from policies.context import AuditInputs, Target
from policies.engine import run_audit
from policies.library import load_library
from policies.schema import Role


def main() -> None:
    role, raw = cast(Role, sys.argv[1]), json.loads(sys.argv[2])
    iso = IsolationConfig(
        canaries=tuple(raw.get("canaries", ())),
        dns_canaries=tuple(raw.get("dns_canaries", ())),
        private_targets=tuple(raw.get("private_targets", ())),
        timeout=Duration(raw.get("timeout", 1.0)),
    )
    library, _ = load_library()
    if sys.argv[3:] == ["enforce"]:
        from policies.enforce import enforce

        net_checks = [c.id for c in library.checks if c.id.startswith("net.")]
        changes = enforce(
            library,
            Target("term", role, "linux"),
            SubprocessRunner(),
            AuditInputs(isolation=iso),
            opted_in=net_checks,
        )
        print(json.dumps([c.to_json() for c in changes]))
        return
    report = run_audit(
        library,
        Target("term", role, "linux"),
        SubprocessRunner(),
        AuditInputs(isolation=iso),
        only=[c.id for c in library.checks if c.id.startswith("net.")],
        timeout=5,
    )
    print(json.dumps(report.to_json()))


if __name__ == "__main__":
    main()
