"""The commented device examples of `hostward config default` are valid: uncommented, the real
`hostward config validate` accepts them and the loader reads each kind."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from agent.config import Config
from common.schema import load_text

Hostward = Callable[..., subprocess.CompletedProcess[str]]


def uncomment(text: str, key: str) -> str:
    """Do what the comment says: drop the `# ` of the example block and the empty default."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("# for example") and f"`{key}:" in line)
    end = lines.index(f"{key}: []", start)
    block = [line.removeprefix("# ") for line in lines[start + 1 : end]]
    assert block[0] == f"{key}:" and all(not line.startswith("#") for line in block)
    return "\n".join(lines[:start] + block + lines[end + 1 :]) + "\n"


def test_the_uncommented_device_examples_validate_with_the_real_loader(
    tmp_path: Path, hostward: Hostward
) -> None:
    default = hostward("config", "default").stdout
    assert "NUT" in default and "devices_traps:" in default
    text = uncomment(default, "devices")
    path = tmp_path / "hostward.yaml"
    path.write_text(text, encoding="utf-8")
    check = hostward("config", "validate", "-c", str(path))
    assert (check.returncode, check.stdout) == (0, f"{path}: valid\n"), check.stdout + check.stderr
    devices = load_text(Config, text).devices
    assert [(d.name, d.kind) for d in devices] == [
        ("core-switch", "switch"), ("ups-1", "ups"), ("room-sensor", "sensor"), ("edge-router", "router"),
        ("ups-usb", "ups"),
    ]  # fmt: skip
    switch, ups, sensor, router, usb_ups = devices
    assert usb_ups.nut is not None and usb_ups.nut.ups == "myups" and usb_ups.nut_port == 3493
    assert switch.snmp is not None and switch.snmp.version == "3" and switch.snmp.security_level == "authPriv"
    assert ups.snmp is not None and sensor.snmp is not None and sensor.snmp.version == "2c"
    assert router.ssh is not None and router.snmp is None and router.ssh.known_hosts_file


def test_a_broken_example_would_be_refused_by_the_same_check(tmp_path: Path, hostward: Hostward) -> None:
    text = uncomment(hostward("config", "default").stdout, "devices").replace(
        "kind: sensor", "kind: thermometer"
    )
    path = tmp_path / "hostward.yaml"
    path.write_text(text, encoding="utf-8")
    check = hostward("config", "validate", "-c", str(path))
    assert check.returncode == 2 and "devices[2].kind" in check.stdout + check.stderr
