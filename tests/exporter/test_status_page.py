"""The status page: rendered HTML (escaping, languages, warning levels) and the real page in
headless Chromium."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from exporter_helpers import FAKE_HOST
from testkit import put_json

from agent.config import LoadedConfig
from agent.exporter.server import ExporterHandle
from agent.state import State
from agent.web.status import pick_lang, render_status

Serve = Callable[[LoadedConfig], ExporterHandle]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def test_both_languages_are_rendered_and_linked(state: State) -> None:
    zh = render_status(state.snapshot(), "zh")
    en = render_status(state.snapshot(), "en")
    assert '<html lang="zh-CN"' in zh and "主机健康" in zh and "任务" in zh and 'href="/?lang=en"' in zh
    assert '<html lang="en"' in en and "Host health" in en and "Jobs" in en and 'href="/?lang=zh"' in en
    assert "主机健康" not in en


@pytest.mark.parametrize(
    ("query", "accept", "lang"),
    [("en", "zh-CN", "en"), ("", "en-US,en;q=0.9", "en"), ("", "zh-TW,zh;q=0.9", "zh"), ("", "fr", "zh"),
     ("xx", "en", "en")],
)  # fmt: skip
def test_the_language_comes_from_the_query_then_the_browser(query: str, accept: str, lang: str) -> None:
    assert pick_lang(query, accept) == lang


def test_every_value_from_the_host_and_jobs_is_escaped(state: State) -> None:
    hostile = copy.deepcopy(FAKE_HOST)
    hostile["filesystems"][0]["mountpoint"] = '/mnt/<script>alert("x")</script>'
    hostile["users"] = ["<img src=x onerror=alert(1)>"]
    put_json(state, "host", hostile)
    state.record_run("<b>job</b>", time.time(), 0.1, False, "<iframe>")
    page = render_status(state.snapshot(), "en")
    assert "<script>" not in page and "<img" not in page and "<iframe>" not in page and "<b>job" not in page
    assert "&lt;script&gt;" in page and "&lt;iframe&gt;" in page
    assert 'data-job="&lt;b&gt;job&lt;/b&gt;"' in page


def test_parts_the_platform_does_not_provide_are_shown_as_such_in_both_languages(state: State) -> None:
    assert "data-unavailable" not in render_status(state.snapshot(), "en")  # Linux: load is there
    windows = copy.deepcopy(FAKE_HOST)
    windows["load"] = windows["swap"] = None
    windows["unavailable"] = {
        "load": "no performance counters (PDH); `lodctr /R` rebuilds them",
        "swap": "no performance counters (PDH) <for page-file usage>",
    }
    put_json(state, "host", windows)
    pages = {lang: render_status(state.snapshot(), lang) for lang in ("zh", "en")}
    for lang, label, said in (("en", "Load 1/5/15 min", "not available on this platform"),
                              ("zh", "负载 1/5/15 分钟", "此平台不提供")):  # fmt: skip
        load_card = r'<div class="card na" id="host-load" data-unavailable="load">.*?</small></div>'
        card = re.search(load_card, pages[lang])
        assert card and label in card.group(0) and said in card.group(0), pages[lang]
        assert "`lodctr /R` rebuilds them" in card.group(0)
        assert 'data-unavailable="swap"' in pages[lang] and "&lt;for page-file usage&gt;" in pages[lang]
    assert "此平台不提供" not in pages["en"] and 'id="host-errors"' not in pages["en"]


def test_a_filesystem_above_the_thresholds_is_marked(state: State) -> None:
    page = render_status(state.snapshot(), "en")
    # "/" is 60% used (ok); /srv/his-data is 96% used (crit).
    assert re.search(r'<tr class="fs ok" data-mountpoint="/">', page)
    assert re.search(r'<tr class="fs crit" data-mountpoint="/srv/his-data">', page)
    assert 'class="bar crit" data-percent="96.0"' in page


def test_each_job_shows_its_last_result(state: State) -> None:
    page = render_status(state.snapshot(), "zh")
    collect = re.search(r'<tr data-job="collect" class="ok">.*?</tr>', page)
    audit = re.search(r'<tr data-job="audit" class="crit">.*?</tr>', page)
    assert collect and "成功" in collect.group(0)
    assert (
        audit
        and "失败（第 2 次）" in audit.group(0)
        and "probe &lt;x&gt; failed &amp; gave up" in audit.group(0)
    )


def test_no_record_yet_says_so_instead_of_showing_a_healthy_host(tmp_path: Path) -> None:
    empty = State.open(tmp_path / "empty")
    page = render_status(empty.snapshot(), "en")
    assert "Not collected yet." in page and "No job has run yet." in page and 'class="bar' not in page
    empty.close()


def chromium(url: str, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1280,2000",
            *extra, url]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=90)


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium")
def test_the_status_page_in_headless_chromium(
    tmp_path: Path, make_loaded: Callable[..., LoadedConfig], serve: Serve
) -> None:
    handle = serve(make_loaded())
    en = chromium(handle.url + "?lang=en", tmp_path, "--dump-dom")
    assert en.returncode == 0, en.stderr[-2000:]
    dom = en.stdout
    assert '<html lang="en"' in dom
    for marker in ('id="host-health"', 'id="host-memory"', 'id="filesystems"', 'id="jobs-table"',
                   'data-job="collect"', 'data-job="audit"', 'data-mountpoint="/srv/his-data"',
                   "ward-pc-01"):  # fmt: skip
        assert marker in dom, marker
    zh = chromium(handle.url + "?lang=zh", tmp_path, "--dump-dom")
    assert '<html lang="zh-CN"' in zh.stdout and "主机健康" in zh.stdout and 'data-job="collect"' in zh.stdout
    shot = tmp_path / "status.png"
    chromium(handle.url + "?lang=zh", tmp_path, f"--screenshot={shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_disk_health_units_and_clock_are_shown_escaped_and_unread_parts_named(state: State) -> None:
    from collectors.host_health import HostHealth
    from collectors.smart import DiskHealth

    health = HostHealth(
        taken=time.time(),
        disks=(DiskHealth("/dev/sda", "ATA", "<b>model</b>", False, {"pending_sectors": 8}),),
        failed_units=("postgresql.service",),
        time_synchronized=False,
        errors={"smart:/dev/sdb": "could not read"},
        unavailable={"time_sync": "no systemd"},
    )
    put_json(state, "host_health", health.to_payload())
    page = render_status(state.snapshot(), "en")
    assert re.search(r'<tr class="crit" data-device="/dev/sda">.*FAILING.*pending_sectors 8', page)
    assert "&lt;b&gt;model" in page and "<b>model" not in page
    assert "Failed systemd units: postgresql.service" in page and "NOT synchronised" in page
    assert 'id="health-errors"' in page and 'id="health-unavailable"' in page
    assert "未同步" in render_status(state.snapshot(), "zh")


def test_no_health_record_yet_says_not_checked(state: State) -> None:
    page = render_status(state.snapshot(), "en")
    assert 'id="disk-health"' in page and "Not checked yet." in page
