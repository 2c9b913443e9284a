"""Strings from hosts and devices carrying `$(…)`, backticks, newlines, ANSI escapes and HTML
are data: stored as they came, escaped wherever they are shown (log lines, /metrics labels,
the status page, the HTML report, the terminal), and never run (the marker file never appears)."""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from reliability_kit import (
    HOSTILE,
    MARKER,
    SCRIPT,
    Agent,
    free_port,
    free_udp_port,
    raw_get,
    run_hostward,
    snmprec,
    start_snmpsim,
    status_of,
)

from agent.config.schema import LogConfig
from agent.logs import setup_logging
from agent.state import State
from agent.web.status import render_status

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: ")
# 64 bytes at most (a host name), 15 (a process name): the hostile parts that fit.
HOSTNAME = f"pc$(touch {MARKER})`id`\n\x1b[1m<b>"
PROCESS = "steam\n$(id)\x1b[m`"
PROCESS_HTML = "steam<i>\n$(id)`"
SYS_NAME = HOSTILE.encode()
SENSOR = f'Inlet "fan" \\ `touch {MARKER}`\n\x1b[31m{SCRIPT}'.encode()


def escaped_label(value: str) -> str:
    """A label value as the Prometheus text format writes it."""
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


@pytest.fixture
def hostile_snmp_agent() -> Iterator[tuple[int, Path]]:
    """snmpsim answering as a device whose system strings and sensor name are hostile."""
    if shutil.which("snmpsimd") is None:
        pytest.skip("Debian snmpsim is not installed (scripts/debian-deps.sh test)")
    work = Path(tempfile.mkdtemp(prefix="hostward-hostile-snmp-"))  # readable by the dropped user
    port = free_udp_port()
    recording = snmprec({
        "1.3.6.1.2.1.1.1.0": (4, SYS_NAME),
        "1.3.6.1.2.1.1.3.0": (67, "4320000"),
        "1.3.6.1.2.1.1.5.0": (4, SYS_NAME),
        "1.3.6.1.2.1.1.6.0": (4, SYS_NAME),
        "1.3.6.1.2.1.47.1.1.1.1.7.1": (4, SENSOR),
        "1.3.6.1.2.1.99.1.1.1.1.1": (2, "8"),
        "1.3.6.1.2.1.99.1.1.1.2.1": (2, "9"),
        "1.3.6.1.2.1.99.1.1.1.3.1": (2, "1"),
        "1.3.6.1.2.1.99.1.1.1.4.1": (2, "235"),
        "1.3.6.1.2.1.99.1.1.1.5.1": (2, "1"),
    })  # fmt: skip
    proc = start_snmpsim(work, "hostile", recording, port)
    community = work / "community"
    community.write_text("hostile\n")
    community.chmod(0o600)
    try:
        yield port, community
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(work, ignore_errors=True)


def test_a_log_line_cannot_be_forged_nor_drive_the_terminal() -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    streams = {"text": io.StringIO(), "json": io.StringIO()}
    try:
        for fmt, stream in streams.items():
            setup_logging(LogConfig(format=fmt), stream)  # type: ignore[arg-type]
            log = logging.getLogger("collectors.devices")
            log.warning("device said %s", HOSTILE, extra={"sys_name": HOSTILE})
            try:
                raise OSError(f"cannot read {HOSTILE}")
            except OSError:
                log.exception("poll failed")
    finally:
        for handler in [h for h in root.handlers if h not in saved[0]]:
            root.removeHandler(handler)
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    text = streams["text"].getvalue()
    assert "\x1b" not in text and "\r" not in text
    heads = [line for line in text.splitlines() if not line.startswith("  ")]
    assert len(heads) == 2 and all(LOG_LINE.match(line) for line in heads), text
    assert r"\x1b[2J" in text and "$(touch" in text  # shown, escaped, not dropped
    entries = [json.loads(line) for line in streams["json"].getvalue().splitlines()]
    assert entries[0]["message"] == f"device said {HOSTILE}" and entries[0]["sys_name"] == HOSTILE
    assert HOSTILE in entries[1]["exception"]  # JSON keeps the data exact, escaped by JSON itself


def test_device_and_host_strings_are_data_in_metrics_status_page_and_logs(
    start_agent: Callable[..., Agent],
    hostile_snmp_agent: tuple[int, Path],
    tmp_path: Path,
    no_marker: Path,
) -> None:
    snmp_port, community = hostile_snmp_agent
    policies = tmp_path / "policies"
    policies.mkdir()
    evil_name = "evil$(touch hw-pwned)`id`\n2026-11-23T00:00:00.000Z ERROR x: forged\x1b[2J.yaml"
    (policies / evil_name).write_text("version: 1\nchecks: [oops\n")
    port = free_port()
    config = f"""\
version: 1
state_dir: {{state}}
exporter: {{listen: "127.0.0.1:{port}"}}
collect: {{schedule: {{every: 1s, timeout: 5s}}}}
audit: {{policy_dirs: ["{policies}"], schedule: {{every: 1h, timeout: 60s}}}}
devices:
  - name: room
    kind: sensor
    address: "127.0.0.1:{snmp_port}"
    snmp: {{version: "2c", community_file: {community}, timeout: 2s}}
devices_schedule: {{poll: {{every: 2s, timeout: 20s}}}}
"""
    # The agent in a UTS namespace of its own, with a hostile host name.
    set_name = "import os, socket, sys; socket.sethostname(sys.argv[1]); os.execv(sys.argv[2], sys.argv[2:])"
    wrapper: tuple[str, ...] = ()
    if subprocess.run(["unshare", "-u", "true"], check=False, capture_output=True).returncode == 0:
        wrapper = ("unshare", "-u", sys.executable, "-c", set_name, HOSTNAME)
    agent = start_agent(config, wrapper)
    agent.wait_serving()
    agent.wait_for(lambda: b'sys_name="$(touch' in raw_get(port), timeout=30, what="a device poll")
    agent.wait_for(lambda: "policy file rejected" in agent.stderr, timeout=30, what="the audit")
    body = raw_get(port)
    assert status_of(body) == 200
    metrics = body.split(b"\r\n\r\n", 1)[1].decode()

    # /metrics: label values escaped per the text format; no line is forged; promtool parses it.
    assert f'sys_name="{escaped_label(HOSTILE)}"' in metrics
    assert f'sensor="{escaped_label(SENSOR.decode())}"' in metrics
    lines = metrics.rstrip("\n").split("\n")  # the format's only line break; \r is data
    assert all(line.startswith(("# ", "hostward_")) for line in lines), metrics
    if shutil.which("promtool"):
        check = subprocess.run(["promtool", "check", "metrics"], input=metrics.encode(), capture_output=True)
        assert b"error" not in check.stderr.lower(), check.stderr.decode()

    # The status page: every string HTML-escaped.
    page = raw_get(port, "/?lang=en").split(b"\r\n\r\n", 1)[1].decode()
    assert SCRIPT not in page
    assert "&lt;script&gt;" in page
    if wrapper:
        assert "pc$(touch" in page and "&lt;b&gt;" in page  # the host name, shown as text

    # The daily inspection record the agent wrote: escaped as well.
    reports = list((tmp_path / "state" / "reports").glob("daily-*.html"))
    assert reports
    daily = reports[0].read_text(encoding="utf-8")
    assert SCRIPT not in daily and "\x1b[1m<b>" not in daily
    if wrapper:
        assert "pc$(touch" in daily and "&lt;b&gt;" in daily  # the host name, as text

    # The log: the hostile file name is one escaped line, never a forged one nor a raw escape.
    log = agent.stderr
    assert "\x1b" not in log
    assert all(LOG_LINE.match(line) or line.startswith("  ") for line in log.splitlines()), log
    assert r"\n2026-11-23T00:00:00.000Z ERROR x: forged\x1b[2J.yaml" in log
    assert not (Path.cwd() / "hw-pwned").exists()
    assert agent.proc.poll() is None


def test_a_hostile_process_name_is_evidence_not_a_command(tmp_path: Path, no_marker: Path) -> None:
    """A live audit sees real processes named with `$(…)`, a newline, an escape and HTML."""
    namer = (
        "import ctypes, sys, time\n"
        "ctypes.CDLL(None).prctl(15, sys.argv[1].encode(), 0, 0, 0)\n"  # PR_SET_NAME: /proc/PID/comm
        "open(sys.argv[2], 'w').close()\n"
        "time.sleep(60)\n"
    )
    procs = {
        name: subprocess.Popen([sys.executable, "-c", namer, name, str(tmp_path / f"named-{i}")])
        for i, name in enumerate((PROCESS, PROCESS_HTML))
    }
    try:
        deadline = time.monotonic() + 10
        while len(list(tmp_path.glob("named-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        for name, proc in procs.items():
            assert Path(f"/proc/{proc.pid}/comm").read_bytes() == name.encode() + b"\n"
        config = tmp_path / "hostward.yaml"
        config.write_text(f"version: 1\nstate_dir: {tmp_path / 'state'}\n")
        report = tmp_path / "report.html"
        whole = run_hostward("audit", "-c", str(config), "--json", "--html", str(report), "--lang", "en")
        only = ("--check", "sw.no_forbidden_software", "--lang", "en")
        table = run_hostward("audit", "-c", str(config), *only)
    finally:
        for proc in procs.values():
            proc.kill()
            proc.wait(10)
    results = {r["check"]: r for r in json.loads(whole.stdout)["results"]}
    forbidden = results["sw.no_forbidden_software"]
    assert whole.returncode == 1 and forbidden["status"] == "fail"
    assert forbidden["evidence"]["running"] == {PROCESS: "steam*", PROCESS_HTML: "steam*"}  # exact data

    assert table.returncode == 1
    assert "\x1b" not in table.stdout and "\x1b" not in table.stderr  # the terminal is not driven
    rows = table.stdout.splitlines()  # the table's row, not the failing-rules list under it
    row = [line for line in rows if "sw.no_forbidden_software" in line and not line.startswith(" ")]
    assert len(row) == 1 and r"steam\n$(id)\x1b[m`" in row[0]

    html = report.read_text(encoding="utf-8")
    assert "steam&lt;i&gt;" in html and "steam<i>" not in html and "$(id)" in html
    state = State.open(tmp_path / "state")
    try:
        page = render_status(state.snapshot(), "en")
    finally:
        state.close()
    assert "sw.no_forbidden_software" in page and "steam<i>" not in page
    assert "steam&lt;i&gt;" in page


def test_hostile_file_names_in_a_backup_source_are_backed_up_drilled_and_shown_as_data(
    tmp_path: Path, no_marker: Path
) -> None:
    """Real restic: names with `$(…)`, backticks, a newline, an escape, HTML and glob
    characters (which the drill's restore patterns must escape) go through as data."""
    if shutil.which("restic") is None:
        pytest.skip("Debian restic is not installed")
    source = tmp_path / "source"
    source.mkdir()
    names = {
        "$(touch hw-pwned)`touch hw-pwned`\n\x1b[31m<b>.txt": b"first\n",
        "[*]?\\{a,b}\r.txt": b"second\n",
    }
    for name, data in names.items():
        (source / name).write_bytes(data)
    password = tmp_path / "restic.pass"
    password.write_text("correct horse battery staple\n")
    password.chmod(0o600)
    config = tmp_path / "hostward.yaml"
    config.write_text(f"""\
version: 1
state_dir: "{tmp_path / 'state'}"
exporter: {{enabled: false}}
backup:
  sources: ["{source}"]
  cache_dir: "{tmp_path / 'cache'}"
  repositories:
    primary: {{url: "{tmp_path / 'primary'}", password_file: "{password}"}}
    secondary: {{url: "{tmp_path / 'secondary'}", password_file: "{password}"}}
""")
    outputs = []
    for args in (("init",), ("run",), ("drill", "--from", "primary"), ("snapshots",)):
        done = run_hostward("backup", *args, "-c", str(config), timeout=120)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        outputs.append(done.stdout + done.stderr)
    assert not any("\x1b" in out for out in outputs)  # the terminal is not driven
    state = State.open(tmp_path / "state")
    try:
        drill = state.snapshot().records.get("backup").payload["repositories"]["primary"]["drill"]  # type: ignore[union-attr]
        page = render_status(state.snapshot(), "en")
    finally:
        state.close()
    assert drill["ok"] is True and drill["files"] == 2, drill
    report = json.loads(Path(drill["report"]).read_text(encoding="utf-8"))
    checked = {Path(f["path"]).name: f["verdict"] for f in report["checked"]}
    assert checked == dict.fromkeys(names, "same_as_live")  # restored and compared by their exact names
    assert "<b>" not in page
    for where in (Path.cwd(), source, tmp_path):
        assert not (where / "hw-pwned").exists()
