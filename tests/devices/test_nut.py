"""A UPS read from Debian's nut-server (upsd + the dummy-ups driver, on 127.0.0.1, a free port,
a config directory made here): OL then OB (BAK-6 through the real power-round job), LB, and
every failure (dead upsd, wrong password, unknown UPS name) an error and an outage, never a
healthy UPS."""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from devices_kit import secret, stop
from testkit import free_port, wait_for

from agent.actions.base import JobContext
from agent.actions.devices import devices_power_job, poll_and_record
from agent.config.schema import Config
from agent.device_events import read
from agent.exporter.families_devices import device_families
from agent.exporter.render import MetricsRenderer
from agent.state import State
from collectors.devices.config import DeviceConfig, NutConfig
from collectors.devices.nut import NutError, read_vars

UPSD, DRIVER = Path("/lib/nut/upsd"), Path("/lib/nut/dummy-ups")
pytestmark = pytest.mark.skipif(
    not (UPSD.exists() and DRIVER.exists()) or not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="needs Debian's nut-server, run as root (upsd and the driver run with -u root)",
)
PASSWORD = "nut-pass-w0rd"
STATUS_OL = "ups.status: OL\nbattery.charge: 100\nbattery.runtime: 1800\ninput.voltage: 230.0\nups.load: 20\n"


def reported(port: int) -> str:
    """upsd's ups.status of the dummy UPS, "" while upsd or the driver is not there yet."""
    try:
        return read_vars("127.0.0.1", port, "dummy").get("ups.status", "")
    except NutError:
        return ""


@dataclass
class Upsd:
    port: int
    dev: Path
    password_file: str
    stamp: float = 0.0  # the .dev file's last mtime: each rewrite gets a later whole second

    def status(self, text: str) -> None:
        """Rewrite the dummy UPS; wait until upsd reports it. dummy-ups re-reads the file when
        its mtime (whole seconds) changes, so two rewrites within a second must not share one."""
        first = text.split("\n", 1)[0].removeprefix("ups.status: ")
        self.dev.write_text(text)
        self.stamp = max(float(int(time.time())) + 2, self.stamp + 2)
        os.utime(self.dev, (self.stamp, self.stamp))
        wait_for(lambda: reported(self.port) == first, 30, first)

    def device(
        self, ups: str = "dummy", password_file: str | None = None, port: int | None = None
    ) -> DeviceConfig:
        nut = NutConfig(ups=ups, username="mon", password_file=password_file or self.password_file)
        return DeviceConfig("ups-usb", "ups", f"127.0.0.1:{port or self.port}", site="机房", nut=nut)


@pytest.fixture(scope="module")
def upsd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upsd]:
    conf = tmp_path_factory.mktemp("nut")
    (conf / "state").mkdir(mode=0o700)
    port = free_port()
    dev = conf / "dummy.dev"
    dev.write_text(STATUS_OL)
    (conf / "ups.conf").write_text(
        f'[dummy]\n  driver = dummy-ups\n  port = {dev}\n  desc = "test"\n  pollinterval = 1\n'
    )
    (conf / "upsd.conf").write_text(f"LISTEN 127.0.0.1 {port}\n")
    (conf / "upsd.users").write_text(f"[mon]\n  password = {PASSWORD}\n  upsmon secondary\n")
    for name in ("ups.conf", "upsd.conf", "upsd.users"):
        (conf / name).chmod(0o600)
    env = {**os.environ, "NUT_CONFPATH": str(conf), "NUT_STATEPATH": str(conf / "state")}
    out = (conf / "log").open("wb")
    driver = subprocess.Popen(
        [str(DRIVER), "-a", "dummy", "-u", "root", "-F"], env=env, stdout=out, stderr=out
    )
    server = subprocess.Popen([str(UPSD), "-u", "root", "-F"], env=env, stdout=out, stderr=out)
    try:
        wait_for(lambda: reported(port) == "OL", 30, "upsd")
        yield Upsd(port, dev, secret(conf / "nut.pass", PASSWORD))
    finally:
        stop(server)
        stop(driver)
        out.close()


def power_job(config: Config, state: State, state_dir: Path, started: list[str]) -> bool:
    def request_run(job: str) -> str:
        started.append(job)
        return "started"

    ctx = JobContext(config, state, state_dir, time.monotonic() + 30, threading.Event(),
                     logging.getLogger("test"), request_run)  # fmt: skip
    return devices_power_job(ctx).success


def test_a_nut_ups_going_from_mains_to_battery_starts_the_backup_once_and_says_so(
    upsd: Upsd, tmp_path: Path
) -> None:
    config = Config(devices=(upsd.device(),))
    state = State.open(tmp_path / "state")
    started: list[str] = []
    upsd.status(STATUS_OL)
    assert power_job(config, state, tmp_path / "state", started) and started == []
    upsd.status(STATUS_OL.replace("OL", "OB DISCHRG").replace("1800", "600"))
    assert power_job(config, state, tmp_path / "state", started) and started == ["backup"]
    assert power_job(config, state, tmp_path / "state", started) and started == ["backup"]  # once
    events = read(state).events
    assert [e.text for e in events] == ["UPS ups-usb on battery; backup started"]
    text = MetricsRenderer([device_families]).render(state.snapshot())[0].decode()
    labels = 'device="ups-usb",kind="ups",site="机房"'
    assert f"hostward_ups_on_battery{{{labels}}} 1.0" in text
    assert f"hostward_ups_battery_runtime_seconds{{{labels}}} 600.0" in text
    assert f"hostward_ups_battery_charge_ratio{{{labels}}} 1.0" in text
    assert f"hostward_ups_load_ratio{{{labels}}} 0.2" in text
    assert 'hostward_ups_input_voltage_volts{device="ups-usb",kind="ups",line="1",site="机房"} 230.0' in text
    upsd.status(STATUS_OL)
    assert power_job(config, state, tmp_path / "state", started)
    assert read(state).events[-1].text == "UPS ups-usb back on mains"
    state.close()


def test_low_battery_from_nut_is_the_battery_status_low(upsd: Upsd) -> None:
    upsd.status(STATUS_OL.replace("OL", "OB DISCHRG LB"))
    result = poll_and_record(Config(devices=(upsd.device(),)), None).results[0]
    assert result.up and result.ups is not None and result.ups.on_battery
    assert result.ups.battery_status == "low" and "low_battery" in result.ups.alarms
    upsd.status(STATUS_OL)


@pytest.mark.parametrize(
    ("what", "reason"),
    [
        ("wrong password", "upsd refused the user name or password"),
        ("unknown ups", "upsd knows no UPS named 'nosuchups'"),
        ("dead upsd", "upsd not reachable at 127.0.0.1:"),
    ],
)
def test_a_failing_upsd_is_an_error_and_an_outage_never_a_healthy_ups(
    upsd: Upsd, tmp_path: Path, what: str, reason: str
) -> None:
    device = {
        "wrong password": lambda: upsd.device(password_file=secret(tmp_path / "bad", "not-the-password")),
        "unknown ups": lambda: upsd.device(ups="nosuchups"),
        "dead upsd": lambda: upsd.device(port=free_port()),
    }[what]()
    state = State.open(tmp_path / "state")
    round_ = poll_and_record(Config(devices=(device,)), state, now=1_000_000.0)
    result = round_.results[0]
    assert not result.up and result.ups is None and result.reason.startswith(reason)
    assert [o.target for o in round_.changes.started] == ["ups-usb"]
    assert read(state).events[-1].text.startswith(f"ups-usb down: {reason}")
    state.close()


def test_an_answer_without_ups_status_is_an_error(upsd: Upsd) -> None:
    with pytest.raises(NutError, match=r"no usable ups\.status"):
        from collectors.devices.nut import ups_status

        ups_status(read_vars("127.0.0.1", upsd.port, "dummy") | {"ups.status": ""})
