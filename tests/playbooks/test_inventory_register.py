"""inventory-register.yml, run for real against this machine with the deployed agent: the fleet's
asset register (ROOM-5) gathered on the controller as one JSON per host and one CSV for Excel.

Two local "hosts" share the deployed virtual environment: one with a valid config, one whose
config is invalid (`hostward inventory` exits 2), which must be listed as not answering, not
left out of the register.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import yaml
from playbooks_kit import Deployment, fleet_summary, local_inventory, run_playbook


def test_the_fleet_register_has_every_hosts_adapters_and_software_and_names_the_host_that_failed(
    deployment: Deployment, tmp_path: Path
) -> None:
    assert deployment.first.rc == 0, deployment.first.output[-4000:]
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump({"version": 1, "state_dir": str(tmp_path / "state"),
                                    "host": {"name": "病房-pc-01"}}, allow_unicode=True))  # fmt: skip
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nno_such_key: 1\n")
    common = {"hostward_prefix": str(deployment.prefix), "hostward_become": False}
    hosts = {"pc-good": {**common, "hostward_config_path": str(good)},
             "pc-bad": {**common, "hostward_config_path": str(bad)}}  # fmt: skip
    register = tmp_path / "register"
    run = run_playbook("inventory-register.yml", local_inventory(tmp_path / "fleet.yml", hosts), tmp_path,
                       {"hostward_register_dir": str(register)})  # fmt: skip
    assert run.rc != 0  # one host failed: the play says so
    assert fleet_summary(run) == {"ok": ["pc-good"], "error": ["pc-bad"]}
    payload = json.loads((register / "pc-good.json").read_text(encoding="utf-8"))
    assert payload["host"] == "病房-pc-01"
    assert not (register / "pc-bad.json").exists()
    data = (register / "fleet-register.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\n\n" not in data  # no blank rows in Excel
    rows = [r for r in csv.reader(io.StringIO(data.decode("utf-8-sig"))) if r]
    assert rows[0] == ["host 主机", "section 分类", "name 名称", "field 字段", "value 值"]
    assert all(len(r) == 5 for r in rows), [r for r in rows if len(r) != 5][:3]
    good_rows = [r for r in rows if r[0] == "pc-good"]
    adapters = {r[2] for r in good_rows if r[1] == "adapters" and r[3] == "mac"}
    expected = {a["name"] for a in payload["sections"]["adapters"]["items"]}
    assert adapters == expected and adapters
    software = [r for r in good_rows if r[1] == "software" and r[3] == "version"]
    assert len(software) == len(payload["sections"]["software"]["items"]) > 50
    installed = [r[4] for r in good_rows if r[1] == "software" and r[3] == "installed"]
    assert installed and all(v == "" or (len(v) == 19 and v[4] == "-") for v in installed)
    assert ["pc-bad", "host", "", "no answer", "error"] in rows
    if payload["sections"]["system"]["status"] != "ok":  # this machine may have no DMI table
        assert any(r[:2] == ["pc-good", "system"] and r[3] == "error" for r in rows)
