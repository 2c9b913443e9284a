"""The `inventory` job (ROOM-5): the register is kept, compared with the last one, and every
change is journaled (`inventory.changed`, before and after) and counted on /metrics."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest
from inventory_kit import RecordedRunner, add_package, linux_tree, set_mac, write
from prometheus_client.parser import text_string_to_metric_families

from agent.actions.base import JobContext
from agent.actions.inventory import RECORD_KIND, record_inventory
from agent.config import load_config
from agent.exporter.families_inventory import inventory_families
from agent.exporter.textformat import generate_text
from agent.jobs import JOBS
from agent.journal import Journal
from agent.state import State
from collectors.inventory.diff import changes


@pytest.fixture
def ctx(tmp_path: Path) -> JobContext:
    path = tmp_path / "hostward.yaml"
    path.write_text(f"version: 1\nstate_dir: {tmp_path / 'state'}\n", encoding="utf-8")
    loaded = load_config(str(path))
    state = State.open(loaded.state_dir)
    return JobContext(
        loaded.config,
        state,
        loaded.state_dir,
        time.monotonic() + 60,
        threading.Event(),
        logging.getLogger("t"),
    )


def metrics(state: State) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    class Builder:
        def collect(self) -> object:
            return inventory_families(state.snapshot())

    text = generate_text(Builder()).decode()  # type: ignore[arg-type]
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_an_added_package_and_a_changed_mac_are_journaled_with_before_and_after_and_counted(
    ctx: JobContext, tmp_path: Path
) -> None:
    root = linux_tree(tmp_path / "root")
    runner = RecordedRunner({})
    assert record_inventory(ctx, str(root), runner).success
    journal = Journal(ctx.state_dir)
    assert [e.kind for e in journal.entries()] == ["inventory.registered"]
    first = metrics(ctx.state)
    info = (("model", "ThinkCentre M720t"), ("os", "Debian GNU/Linux 12 (bookworm)"), ("serial", "PC1ABCDE"),
            ("vendor", "LENOVO"))  # fmt: skip
    assert first[("hostward_host_info", info)] == 1
    assert first[("hostward_inventory_changes_total", (("kind", "mac"),))] == 0

    add_package(root, "anydesk", "7.1.0")
    set_mac(root, "00:1a:2b:3c:4d:99")
    write(root, "/sys/class/net/br0/address", "02:42:ac:11:00:77\n")  # a virtual bridge: not a change
    assert record_inventory(ctx, str(root), runner).success
    entries = list(journal.entries())
    assert [e.kind for e in entries] == ["inventory.registered", "inventory.changed"]
    found = {(c["kind"], c["item"]): c for c in entries[-1].data["changes"]}
    assert set(found) == {("software_installed", "anydesk"), ("mac", "enp3s0")}
    assert found[("mac", "enp3s0")]["before"] == "00:1a:2b:3c:4d:5e"
    assert found[("mac", "enp3s0")]["after"] == "00:1a:2b:3c:4d:99"
    assert found[("software_installed", "anydesk")]["before"] is None
    assert found[("software_installed", "anydesk")]["after"]["version"] == "7.1.0"
    after = metrics(ctx.state)
    assert after[("hostward_inventory_changes_total", (("kind", "mac"),))] == 1
    assert after[("hostward_inventory_changes_total", (("kind", "software_installed"),))] == 1
    assert after[("hostward_inventory_changes_total", (("kind", "disk"),))] == 0

    assert record_inventory(ctx, str(root), runner).success  # nothing changed: nothing journaled
    assert len(list(journal.entries())) == 2
    assert metrics(ctx.state)[("hostward_inventory_changes_total", (("kind", "mac"),))] == 1


def test_a_section_that_could_not_be_read_is_not_taken_for_everything_removed(
    ctx: JobContext, tmp_path: Path
) -> None:
    root = linux_tree(tmp_path / "root")
    record_inventory(ctx, str(root), RecordedRunner({}))
    before = ctx.state.snapshot().records.get(RECORD_KIND)
    write(root, "/var/lib/dpkg/status", "not a dpkg file at all\n\x00")
    outcome = record_inventory(ctx, str(root), RecordedRunner({}))
    assert outcome.partial and "software" in outcome.error
    assert [e.kind for e in Journal(ctx.state_dir).entries()] == ["inventory.registered"]
    assert before is not None
    stored = ctx.state.snapshot().records.get(RECORD_KIND)
    assert stored is not None and stored.payload["sections"]["software"]["status"] == "error"
    assert metrics(ctx.state)[("hostward_inventory_section_error", (("section", "software"),))] == 1


def test_a_replaced_disk_a_new_serial_and_a_removed_package_are_each_a_change(tmp_path: Path) -> None:
    from collectors.inventory.gather import gather

    root = linux_tree(tmp_path)
    before = gather(RecordedRunner({}), str(root)).to_payload()
    write(root, "/sys/class/dmi/id/product_serial", "PC9ZZZZZ\n")
    write(root, "/sys/block/nvme0n1/device/serial", "S4ENNF0M999999\n")
    write(root, "/var/lib/dpkg/status", "Package: adduser\nStatus: install ok installed\nVersion: 3.134\n")
    write(root, "/sys/block/sdb/size", "100\n")
    after = gather(RecordedRunner({}), str(root)).to_payload()
    assert sorted((c.kind, c.item) for c in changes(before, after)) == [
        ("disk", "sdb"), ("serial", "disk nvme0n1"), ("serial", "system"),
        ("software_removed", "openssh-server"),
    ]  # fmt: skip


def test_the_inventory_job_is_scheduled_daily_by_default(ctx: JobContext) -> None:
    spec = {s.name: s for s in JOBS}["inventory"]
    schedule = spec.schedule(ctx.config)
    assert schedule is not None and schedule.enabled and schedule.at == "03:40"


def test_usb_storage_seen_by_the_audit_is_in_the_register_with_first_and_last_seen(ctx: JobContext) -> None:
    from agent.actions.inventory import perform_inventory
    from agent.records.key_updates import merge_usb_devices

    stick = {"vendor": "Kingston", "product": "DataTraveler 3.0", "serial": "E0D55EA573DCF450E97C104A"}
    merge_usb_devices(ctx.state, [stick], 1_760_000_000.0)
    merge_usb_devices(ctx.state, [stick, {**stick, "serial": "OTHER1"}], 1_770_000_000.0)
    found = perform_inventory(ctx.config, ctx.state).to_payload()["sections"]["usb_storage"]
    assert found["status"] == "ok"
    by_serial = {u["serial"]: (u["first_seen"], u["last_seen"]) for u in found["items"]}
    assert by_serial == {
        "E0D55EA573DCF450E97C104A": (1_760_000_000.0, 1_770_000_000.0),
        "OTHER1": (1_770_000_000.0, 1_770_000_000.0),
    }
    without_state = perform_inventory(ctx.config, None).to_payload()["sections"]["usb_storage"]
    assert without_state["status"] == "unavailable"
