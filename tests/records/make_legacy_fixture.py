"""Write tests/records/fixtures/records-v1.json: every state record kind as the pre-typed code
(main 24d1251, before agent/records/) stored it. Run once with that code:

    .venv/bin/python tests/records/make_legacy_fixture.py

It drives the real actions in a temporary state directory: two real local restic repositories
(backup run, verify, drill, the scheduled prune, an offline copy), a real audit, host collect and
host health, a devices round against a closed 127.0.0.1 port (down, with an outage), the
inventory, the watchdog records and a state recovery. Kept as the fixture the typed records
must load (tests/records/test_legacy_records.py); it is not run by the test suite.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "backup"))

from backup_kit import write_tree  # noqa: E402

from agent import watchdog  # noqa: E402
from agent.actions import backup as backup_actions  # noqa: E402
from agent.actions.audit import audit_job  # noqa: E402
from agent.actions.base import JobContext  # noqa: E402
from agent.actions.collect import collect_job  # noqa: E402
from agent.actions.devices import devices_job_with  # noqa: E402
from agent.actions.host_health import host_health_job  # noqa: E402
from agent.actions.inventory import inventory_job  # noqa: E402
from agent.cli import main  # noqa: E402
from agent.config import load_config  # noqa: E402
from agent.state import State  # noqa: E402


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main_() -> None:
    root = Path(tempfile.mkdtemp(prefix="hw-legacy-"))
    source, state_dir = root / "source", root / "state"
    write_tree(source, size=20_000)
    (root / "pw").write_text("legacy-fixture\n")
    (root / "community").write_text("public\n")
    os.chmod(root / "pw", 0o600)
    os.chmod(root / "community", 0o600)
    (root / "media").mkdir()
    config_path = root / "hostward.yaml"
    config_path.write_text(f"""\
version: 1
state_dir: "{state_dir}"
exporter: {{enabled: false}}
backup:
  sources: ["{source}"]
  cache_dir: "{root / 'cache'}"
  lock_wait: 5s
  repositories:
    primary: {{url: "{root / 'primary'}", password_file: "{root / 'pw'}"}}
    secondary: {{url: "{root / 'secondary'}", password_file: "{root / 'pw'}"}}
devices:
  - {{name: switch-a, kind: switch, address: '127.0.0.1:{closed_port()}',
     snmp: {{version: '2c', community_file: {root / 'community'}, timeout: 1}}}}
""", encoding="utf-8")
    c = str(config_path)
    for argv in (["backup", "init"], ["backup", "run"], ["backup", "verify"], ["backup", "drill"]):
        print(argv, main([*argv, "-c", c]), file=sys.stderr)
    print("offline", main(["backup", "offline", "-c", c, "--to", str(root / "media"), "--media-id", "M1"]),
          file=sys.stderr)
    config = load_config(str(config_path)).config
    state = State.open(state_dir)
    ctx = JobContext(config, state, state_dir, time.monotonic() + 600, threading.Event(),
                     logging.getLogger("fixture"))
    for job in (backup_actions.prune_job, audit_job, collect_job, host_health_job, devices_job_with(),
                inventory_job):
        print(job.__name__, job(ctx), file=sys.stderr)
    watchdog.save(state, watchdog.JOBS_RECORD, {"audit": watchdog.SetAside(time.time() + 60, 1, "timeout")})
    watchdog.save(state, watchdog.CHECKS_RECORD,
                  {"usb.storage_blocked": watchdog.SetAside(time.time() + 120, 2, "probe hung")})
    state.close()
    other = root / "damaged"
    other.mkdir()
    (other / "state.db").write_bytes(b"this is not a database" * 100)
    State.open(other).close()
    out: dict[str, object] = {
        "_how": "written by tests/records/make_legacy_fixture.py with the untyped state code "
        "(main 24d1251) on " + time.strftime("%Y-%m-%d", time.gmtime()) + "; see its docstring",
    }
    for db in (state_dir / "state.db", other / "state.db"):
        conn = sqlite3.connect(db)
        for kind, taken, payload in conn.execute("SELECT kind, taken, payload FROM records ORDER BY kind"):
            out[kind] = {"taken": taken, "payload": json.loads(payload)}
        conn.close()
    target = HERE / "fixtures" / "records-v1.json"
    target.write_text(json.dumps(out, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(target, sorted(out), file=sys.stderr)


if __name__ == "__main__":
    main_()
