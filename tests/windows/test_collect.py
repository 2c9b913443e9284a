"""Host health on Windows CPython: `collect`, `collect --json` and the daemon's collect job.

Under Wine there are no performance counters (PDH), so psutil can read neither the load average
nor the page file: those parts are `unavailable` (with the reason), not errors, and the collect
job is not partial. Filesystems are read without os.statvfs (which Windows lacks).
"""

from __future__ import annotations

import json
import sqlite3
import urllib.request
from pathlib import Path

from testkit import free_port, wait_for
from wine_kit import WineBox


def _config(box: WineBox, name: str, port: int) -> tuple[Path, Path]:
    folder = box.scratch(name)
    state = folder / "state"
    text = (
        "version: 1\n"
        f"state_dir: '{box.win_path(folder)}\\state'\n"
        f"exporter: {{listen: '127.0.0.1:{port}'}}\n"
    )
    (folder / "hostward.yaml").write_text(text, encoding="utf-8")
    return folder / "hostward.yaml", state


def test_collect_json_reports_the_c_drive_and_marks_load_and_swap_unavailable(wine_box: WineBox) -> None:
    done = wine_box.hostward("collect", "--json")
    assert done.returncode == 0, done.describe()
    snap = json.loads(done.out("cp1252"))
    assert snap["errors"] == {}
    drives = {fs["mountpoint"]: fs for fs in snap["filesystems"]}
    assert "C:\\" in drives and drives["C:\\"]["size"] > drives["C:\\"]["avail"] > 0
    assert snap["memory"]["total"] > 0 and snap["cpu_count"] > 0
    for part in ("load", "swap"):  # read, or unavailable with a reason: never silently empty
        assert snap[part] is not None or "performance counters" in snap["unavailable"][part]
    # node_exporter-like detail on Windows too: per CPU, per part of the collector
    assert len(snap["cpus"]) == snap["cpu_count"] and all("idle" in c for c in snap["cpus"])
    assert {"cpus", "disks", "networks", "stat"} <= set(snap["durations"])
    assert snap["meminfo"] == {} and snap["vmstat"] == {}  # Linux /proc only


def test_collect_table_names_what_is_unavailable_instead_of_an_error(wine_box: WineBox) -> None:
    done = wine_box.hostward("collect")
    assert done.returncode == 0, done.describe()
    text = done.out("cp1252")
    assert "FS C:\\" in text
    assert "Error" not in text
    assert "N/A load" in text or "Load 1/5/15" in text


def test_the_daemons_collect_job_succeeds_and_metrics_show_the_c_drive(wine_box: WineBox) -> None:
    port = free_port()
    config, state = _config(wine_box, "daemon-collect", port)
    proc = wine_box.start_hostward("run", "-c", wine_box.win_path(config))
    try:
        def collect_ran() -> str:
            body: str = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
            return body if 'hostward_job_success{job="collect"}' in body else ""

        metrics = wait_for(collect_ran, timeout=90, what="the collect job in /metrics")
        pages = {
            lang: urllib.request.urlopen(f"http://127.0.0.1:{port}/?lang={lang}", timeout=5).read().decode()
            for lang in ("zh", "en")
        }
        assert proc.alive()
    finally:
        _, err = proc.stop()
    assert 'hostward_job_success{job="collect"} 1.0' in metrics, err[-3000:]
    assert 'mountpoint="C:\\\\"' in metrics
    with sqlite3.connect(state / "state.db") as db:
        runs = db.execute("SELECT success, error FROM job_runs WHERE job = 'collect'").fetchall()
        (payload,) = db.execute("SELECT payload FROM records WHERE kind = 'host'").fetchone()
    assert runs and all(success == 1 and error == "" for success, error in runs), runs
    unavailable = json.loads(payload)["unavailable"]
    for part in ("load", "swap"):  # each is either exported or marked unavailable
        marked = f'hostward_host_part_unavailable{{part="{part}"}} 1.0' in metrics
        assert marked == (part in unavailable)
    assert "hostward_load1 " in metrics or "load" in unavailable
    # The status page says the same: a part this platform does not provide is shown as such.
    shown = {p for p in ("load", "swap") if f'data-unavailable="{p}"' in pages["en"]}
    exported = {p for p in ("load", "swap") if f'hostward_host_part_unavailable{{part="{p}"}}' in metrics}
    assert shown == exported
    assert ("not available on this platform" in pages["en"]) == bool(shown)
    assert ("此平台不提供" in pages["zh"]) == bool(shown)
