"""Windows: USB storage insertions read from the Kernel-PnP/Configuration log by the usb_watch
job, at the time they happened, once each, deduplicated against the registry sampling.

The PowerShell output is hand-written in the shape of our script's envelope (Newest, Events with
RecordId, Id, TimeCreated, DeviceInstanceId); the DeviceInstanceId spelling is the USBSTOR
instance path Windows writes (the same one the registry's disk Enum list holds, see
tests/inventory/test_usb_watch.py). It is not a capture from a real Windows."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from agent.access.archive import Archive
from agent.actions.base import JobContext
from agent.actions.usb_watch import PNP_KEY, watch_once
from agent.config import load_config
from agent.journal import Journal
from agent.state import State
from collectors.system.runner import CommandResult
from collectors.system.windows import pnp_log
from collectors.system.windows.powershell import POWERSHELL
from common.errors import CommandNotFound

STICK = r"USBSTOR\Disk&Ven_Kingston&Prod_DataTraveler_3.0&Rev_PMAP\E0D55EA573DCF450E97C104A&0"


class RecordedRunner:
    """Replays outputs keyed by argv; any other command is missing (raises, as a missing program)."""

    def __init__(self, outputs: dict[tuple[str, ...], bytes]) -> None:
        self.outputs = outputs

    def run(self, argv: Sequence[str], *, timeout: float, **_: Any) -> CommandResult:
        if tuple(argv) not in self.outputs:
            raise CommandNotFound(argv[0], "no recording")
        return CommandResult(tuple(argv), 0, self.outputs[tuple(argv)], b"", 0.01)


def envelope(*events: tuple[int, int, str, str]) -> bytes:
    return json.dumps(
        {
            "Newest": 9000,
            "Events": [
                {"RecordId": r, "Id": i, "TimeCreated": t, "DeviceInstanceId": d} for r, i, t, d in events
            ],
        }
    ).encode()


@pytest.fixture
def ctx(tmp_path: Path) -> JobContext:
    path = tmp_path / "hostward.yaml"
    path.write_text(f"version: 1\nstate_dir: {tmp_path / 'state'}\n", encoding="utf-8")
    loaded = load_config(str(path))
    return JobContext(
        loaded.config,
        State.open(loaded.state_dir),
        loaded.state_dir,
        time.monotonic() + 60,
        threading.Event(),
        logging.getLogger("t"),
    )


def test_a_stick_plugged_in_and_out_between_two_looks_is_recorded_at_its_own_time_once(
    ctx: JobContext, tmp_path: Path
) -> None:
    out = envelope(
        (8801, 400, "2026-12-05T01:02:03.0000000Z", STICK),
        (8802, 410, "2026-12-05T01:02:04.0000000Z", STICK),  # the same insertion: 400 then 410
        (8803, 410, "2026-12-05T01:02:05.0000000Z", r"USB\VID_046D&PID_C52B\5&1A2B3C&0&2"),  # a mouse
    )
    runner = RecordedRunner({(*POWERSHELL, pnp_log.SCRIPT): out})
    assert watch_once(ctx, str(tmp_path / "no-usb-now"), pnp_runner=runner).success
    entries = list(Journal(ctx.state_dir).entries())
    assert [(e.kind, e.data["serial"], e.data["via"]) for e in entries] == [
        ("usb.connected", "E0D55EA573DCF450E97C104A", "event-log")
    ]
    assert entries[0].data["time"] == pytest.approx(1796432523.0)
    assert ctx.state.get(PNP_KEY) == 8803
    (archived,) = Archive(ctx.state_dir).read()
    assert (archived.kind, archived.detail["vendor"], archived.detail["product"]) == (
        "usb",
        "Kingston",
        "DataTraveler 3.0",
    )


def test_no_kernel_pnp_answer_is_a_partial_run_and_the_sampling_still_runs(
    ctx: JobContext, tmp_path: Path
) -> None:
    outcome = watch_once(ctx, str(tmp_path / "root"), pnp_runner=RecordedRunner({}))
    assert outcome.partial and "Kernel-PnP" in outcome.error
    assert ctx.state.get(PNP_KEY) is None


def test_a_cleared_log_starts_again_from_its_first_record() -> None:
    found, bookmark = pnp_log.parse({"Newest": 12, "Events": []}, 8803)
    assert (found, bookmark) == ([], 0)


def test_the_windows_security_source_keeps_its_record_id_bookmark_and_an_error_keeps_the_old_one() -> None:
    from collectors.access.gather import gather_windows
    from collectors.system.windows import security_log

    out = json.dumps(
        {
            "Oldest": 1,
            "Newest": 77,
            "Events": [
                {
                    "RecordId": 77,
                    "Id": 4625,
                    "TimeCreated": "2026-12-05T01:02:03.0000000Z",
                    "Data": {
                        "TargetUserName": "admin",
                        "TargetDomainName": "PC-01",
                        "IpAddress": "203.0.113.5",
                    },
                }
            ],
        }
    ).encode()
    got = gather_windows(
        RecordedRunner({(*POWERSHELL, security_log.SCRIPT): out}), {"security": {"record_id": 70}}
    )
    assert [(e.kind, e.user) for e in got.events] == [("failed_login", "PC-01\\admin")]
    assert got.sources[0].bookmark == {"record_id": 77}
    failed = gather_windows(RecordedRunner({}), {"security": {"record_id": 70}})
    assert failed.sources[0].status == "error" and failed.sources[0].bookmark == {"record_id": 70}
