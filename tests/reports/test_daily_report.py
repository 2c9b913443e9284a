"""`hostward report daily` and the `report_daily` job (ROOM-3): the day's inspection record of
this host, from a state filled by a real collect and by stored records, archived every day."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from reports_kit import CHROMIUM, HOSTWARD, chromium, hostward
from testkit import put_json

from agent.actions.base import JobContext
from agent.actions.collect import collect_job
from agent.actions.report_daily import render_for, report_daily_job
from agent.config import LoadedConfig, load_config
from agent.report.daily import day_bounds
from agent.report.daily_html import archive_path
from agent.state import State
from collectors.devices.records import DeviceResult


def day_of(stamp: float) -> date:
    """The local day of a time stored in the state: the day whose record shows it, at any time
    of day (never the day this module was imported, which a run across midnight leaves behind)."""
    return date.fromtimestamp(stamp)


def written_day(path: Path) -> date:
    """The day a record in the archive is for, as the report itself chose it (its file name)."""
    match = re.fullmatch(r"daily-(\d{4}-\d{2}-\d{2})\.html", path.name)
    assert match, path
    return date.fromisoformat(match.group(1))
BACKUP = "backup:\n  sources: [/srv]\n  repositories: {primary: {url: /mnt/b, password_file: /etc/p}}\n"


def loaded(tmp_path: Path, extra: str = "") -> LoadedConfig:
    path = tmp_path / "hostward.yaml"
    path.write_text(
        f"version: 1\nstate_dir: {tmp_path / 'state'}\nhost: {{name: ward-pc-07, site: east-wing}}\n{extra}",
        encoding="utf-8",
    )
    return load_config(str(path))


def context(cfg: LoadedConfig, state: State) -> JobContext:
    return JobContext(
        cfg.config, state, cfg.state_dir, time.monotonic() + 60, threading.Event(), logging.getLogger("t")
    )


def level(html: str, item: str) -> str:
    match = re.search(rf'<tr data-item="{item}" data-level="(\w+)"[^>]*>(.*?)</tr>', html)
    assert match, item
    return match.group(1) + " " + match.group(2)


def test_an_empty_state_is_no_data_never_ok(tmp_path: Path, state: State) -> None:
    html = render_for(loaded(tmp_path).config, state, date.today(), "en")
    for item in ("health", "compliance", "devices", "jobs"):
        assert level(html, item).startswith("nodata "), item
    assert level(html, "backups").startswith("muted ")  # no backup configured here
    assert 'id="no-incidents"' in html and '<span id="record-host">ward-pc-07</span>' in html


def test_backups_configured_but_never_run_are_a_problem(tmp_path: Path, state: State) -> None:
    html = render_for(loaded(tmp_path, BACKUP).config, state, date.today(), "en")
    assert level(html, "backups").startswith("crit ") and "none has run" in level(html, "backups")


def test_a_real_collect_fills_host_health(tmp_path: Path, state: State) -> None:
    cfg = loaded(tmp_path)
    assert collect_job(context(cfg, state)).success
    html = render_for(cfg.config, state, day_of(state.snapshot().records["host"].taken), "en")
    assert not level(html, "health").startswith("nodata")
    assert 'id="host-health"' in html and 'id="filesystems"' in html  # the status page's own section


def test_findings_of_the_day_are_summarised(tmp_path: Path, state: State) -> None:
    cfg = loaded(tmp_path, BACKUP)
    assert collect_job(context(cfg, state)).success
    host = dict(state.snapshot().records["host"].payload)
    host["filesystems"] = [{"device": "/dev/sdb1", "mountpoint": "/srv/his-data", "fstype": "xfs",
                            "size": 100, "free": 4, "avail": 4, "files": 10, "files_free": 5}]  # fmt: skip
    now = time.time()
    put_json(state, "host", host, taken=now - 60)
    put_json(state, "audit", {"results": [], "summary": {"pass": 20, "fail": 2, "error": 1, "waived": 1}})
    stale = now - 30 * 3600
    repositories = {
        "primary": {"status": "ok", "last_success": stale},
        "secondary": {"status": "failed", "error": "disk gone"},
    }
    put_json(state, "backup", {"repositories": repositories})
    down = DeviceResult("core-switch", "switch", "", False, "no answer", 1.0).to_dict()
    put_json(state, "devices", {"devices": [down], "outages": {}})
    state.record_run("audit", now - 60, 1.0, False, "probe timed out")
    html = render_for(cfg.config, state, day_of(now - 60), "en")
    assert level(html, "health").startswith("crit ") and "/srv/his-data 96%" in level(html, "health")
    assert level(html, "compliance").startswith("crit ") and "fail 1, could not determine 1, waived 1" in html
    backups = level(html, "backups")
    assert backups.startswith("crit ") and "primary: no successful backup for over 26 h" in backups
    assert "secondary: last backup failed" in backups
    assert level(html, "devices").startswith("crit ") and "down: core-switch" in html
    assert level(html, "jobs").startswith("warn ") and "failed runs: audit ×1" in html


def test_a_clean_day_is_ok(tmp_path: Path, state: State) -> None:
    put_json(state, "audit", {"results": [], "summary": {"pass": 20, "fail": 0, "error": 0, "waived": 0}})
    started = time.time() - 60
    state.record_run("audit", started, 1.0, True)
    html = render_for(loaded(tmp_path).config, state, day_of(started), "en")
    assert level(html, "compliance").startswith("ok ") and level(html, "jobs").startswith("ok ")


def test_only_the_days_incidents_are_listed_and_escaped(tmp_path: Path, state: State) -> None:
    day = date.today()
    start, _ = day_bounds(day)
    state.record_run("backup", start - 3600, 5.0, False, "yesterday's failure")
    state.record_run("backup", start + 60, 5.0, False, "<script>alert(1)</script>")
    book = {
        "open": {"ups-1": {"start": start + 120, "reason": "no answer"}},
        "history": [
            {"target": "core-switch", "start": start + 30, "end": start + 90, "seconds": 60,
             "reason": "timeout"},
            {"target": "old-router", "start": start - 2 * 86400, "end": start - 86400, "seconds": 86400,
             "reason": "gone"},
        ],
    }  # fmt: skip
    put_json(state, "devices", {"devices": [], "outages": book})
    html = render_for(loaded(tmp_path).config, state, day, "en")
    incidents = html[html.index('id="incidents"') : html.index("</table>", html.index('id="incidents"'))]
    assert "yesterday" not in incidents and "old-router" not in incidents
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in incidents and "<script>" not in html
    assert "core-switch" in incidents and "ups-1" in incidents and "still down" in incidents
    assert incidents.index("core-switch") < incidents.index("&lt;script&gt;") < incidents.index("ups-1")


def test_the_job_archives_todays_record_and_forgets_old_ones(tmp_path: Path, state: State) -> None:
    cfg = loaded(tmp_path, "report: {daily: {keep_days: 3, lang: en}}\n")
    folder = cfg.state_dir / "reports"
    folder.mkdir(parents=True)
    before = date.today()
    old = archive_path(cfg.state_dir, before - timedelta(days=3))
    recent = archive_path(cfg.state_dir, before - timedelta(days=2))
    for path in (old, recent, folder / "notes.txt"):
        path.write_text("kept?", encoding="utf-8")
    assert report_daily_job(context(cfg, state)).success
    [today] = set(folder.glob("daily-*.html")) - {old, recent}
    day = written_day(today)  # the job's own today: `before`, or the next day past midnight
    assert day in (before, before + timedelta(days=1))
    html = today.read_text(encoding="utf-8")
    assert f'<span id="record-date">{day.isoformat()}</span>' in html and '<html lang="en"' in html
    assert oct(today.stat().st_mode & 0o777) == "0o600"
    assert not old.exists() and (folder / "notes.txt").exists()
    assert recent.exists() is (day == before)  # kept: the last 3 days of the job's today


def test_the_command_writes_today_and_reads_earlier_days_from_the_archive(tmp_path: Path) -> None:
    cfg = loaded(tmp_path)
    config = str(tmp_path / "hostward.yaml")
    code, out, err = hostward("report", "daily", "-c", config, "--lang", "zh")
    assert code == 0, err
    written = Path(out.strip())
    day = written_day(written)  # the command's today
    assert written == archive_path(cfg.state_dir, day)
    assert "机房及终端每日巡检记录" in written.read_text(encoding="utf-8")
    yesterday = (day - timedelta(days=1)).isoformat()
    code, _, err = hostward("report", "daily", "-c", config, "--date", yesterday)
    assert code == 1 and f"no inspection record was archived for {yesterday}" in err
    archive_path(cfg.state_dir, day - timedelta(days=1)).write_text("<p>yesterday</p>", encoding="utf-8")
    copy = tmp_path / "copy.html"
    assert hostward("report", "daily", "-c", config, "--date", yesterday, "--out", str(copy))[0] == 0
    assert copy.read_text(encoding="utf-8") == "<p>yesterday</p>"
    future = (day + timedelta(days=2)).isoformat()  # still ahead if midnight passes meanwhile
    assert hostward("report", "daily", "-c", config, "--date", future)[0] == 2
    assert hostward("report", "daily", "-c", config, "--date", "23/11/2026")[0] == 2


def test_the_running_agent_writes_the_record_as_a_scheduled_job(tmp_path: Path) -> None:
    cfg = loaded(tmp_path, "audit: {schedule: {every: 1h, enabled: false}}\n")
    run = subprocess.run(
        (str(HOSTWARD), "run", "--once", "-c", str(tmp_path / "hostward.yaml")),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert re.search(r"^report_daily: ok", run.stdout, re.M)
    # `run --once` starts the due jobs together: the record it wrote may precede collect's first
    # result. A second round's record has the first round's runs in it.
    again = subprocess.run(
        (str(HOSTWARD), "run", "--once", "-c", str(tmp_path / "hostward.yaml")),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    written = sorted((cfg.state_dir / "reports").glob("daily-*.html"))[-1]  # the day the job chose
    html = written.read_text(encoding="utf-8")
    assert 'data-job="collect"' in html and "机房及终端每日巡检记录" in html  # zh by default


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium")
def test_the_daily_record_renders_in_headless_chromium(tmp_path: Path, state: State) -> None:
    cfg = loaded(tmp_path)
    assert collect_job(context(cfg, state)).success
    page = tmp_path / "daily.html"
    page.write_text(render_for(cfg.config, state, date.today(), "zh"), encoding="utf-8")
    dom = chromium(page.as_uri(), tmp_path / "profile", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    markers = ("机房及终端每日巡检记录", 'data-item="health"', 'id="host-health"', "巡检人", "ward-pc-07")
    for marker in markers:
        assert marker in dom.stdout, marker
    assert os.path.getsize(page) > 2000
