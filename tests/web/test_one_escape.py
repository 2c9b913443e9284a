"""Every value reaches each HTML page escaped exactly once: the status page, the audit
evidence report, the daily inspection record and the fleet report, and all of them come out of
the one page shell (agent.web.page).

A hostile value carries markup (`"><script>`), a bare `&`, an entity that is already escaped
(`&amp;`, which must show as the text "&amp;", so `&amp;amp;` in the source) and Chinese text.
Escaped once it reads back (html.unescape) as itself; escaped twice it shows `&amp;lt;`;
not escaped, it shows `<script>`.
"""

from __future__ import annotations

import copy
import html as stdlib_html
import json
import re
import time
from datetime import date
from pathlib import Path

import pytest
from exporter.exporter_helpers import FAKE_HOST
from markupsafe import escape
from testkit import put_json

from agent.actions.report_daily import render_for
from agent.config import load_config
from agent.report.fleet import FleetReport, by_rule, judge
from agent.report.fleet_html import render_fleet
from agent.report.prometheus import Sample
from agent.state import State
from agent.web.audit_report import render_report
from agent.web.page import STYLESHEET
from agent.web.status import render_status
from collectors.devices.records import DeviceResult
from policies.library import load_library
from policies.result import CheckResult, WaiverNote


def hostile(what: str) -> str:
    return f'"><script>alert(1)</script> R&D &amp; 机房 {what}'


def once(what: str) -> str:
    """`hostile(what)` escaped once, as the page must carry it."""
    text = str(escape(hostile(what)))
    assert stdlib_html.unescape(text) == hostile(what) and "<" not in text and '"' not in text
    return text


def assert_escaped_once(page: str, *whats: str) -> None:
    assert "<script>alert" not in page  # never raw
    for twice in ("&amp;lt;", "&amp;gt;", "&amp;#34;", "&amp;amp;amp;"):  # never escaped twice
        assert twice not in page, twice
    for what in whats:
        assert once(what) in page, what


def result(check: str, status: str = "fail") -> CheckResult:
    return CheckResult(
        check=check,
        status=status,  # type: ignore[arg-type]
        rules=("USB-1",),
        severity="high",
        evidence={"path": hostile("evidence")},
        reason=hostile("reason"),
        reason_zh=hostile("原因"),
        title_zh=hostile("标题"),
        title_en=hostile("title"),
        waived=status == "pass",
        waiver=WaiverNote(hostile("approver"), "ok", "2099-01-01") if status == "pass" else None,
    )


@pytest.fixture
def hostile_state(tmp_path: Path) -> State:
    state = State.open(tmp_path / "state")
    host = copy.deepcopy(FAKE_HOST)
    host["users"] = [hostile("user")]
    host["filesystems"][0]["mountpoint"] = hostile("mount")
    now = time.time()
    put_json(state, "host", host, taken=now - 60)
    device = DeviceResult(hostile("device"), "switch", hostile("site"), False, hostile("down"), 1.0)
    put_json(state, "devices", {"devices": [device.to_dict()], "outages": {}})
    results = [result(hostile("check")).to_json(), result(hostile("waived-check"), "pass").to_json()]
    summary = {"pass": 1, "fail": 1, "error": 0, "waived": 1}
    put_json(state, "audit", {"results": results, "summary": summary})
    repositories = {
        hostile("repo"): {"status": "failed", "error": "restic: snapshot /srv/" + hostile("snapshot path")},
    }
    put_json(state, "backup", {"repositories": repositories, "warnings": [hostile("warning")]})
    state.record_run(hostile("job"), now - 30, 0.5, False, hostile("job error"))
    yield state
    state.close()


PAGE_VALUES = ("user", "mount", "device", "site", "down", "check", "waived-check", "title", "reason",
               "repo", "snapshot path", "warning", "job", "job error")  # fmt: skip


def test_the_status_page_shows_every_hostile_value_escaped_once(hostile_state: State) -> None:
    en = render_status(hostile_state.snapshot(), "en")
    assert_escaped_once(en, *PAGE_VALUES)
    assert f'data-device="{once("device")}"' in en and f'data-job="{once("job")}"' in en
    zh = render_status(hostile_state.snapshot(), "zh")
    assert_escaped_once(zh, "标题", "原因", "device", "snapshot path")


def test_the_daily_record_shows_every_hostile_value_escaped_once(
    tmp_path: Path, hostile_state: State
) -> None:
    config = tmp_path / "hostward.yaml"
    name, site = json.dumps(hostile("host name")), json.dumps(hostile("host site"))
    text = f"version: 1\nstate_dir: {tmp_path / 'state'}\nhost: {{name: {name}, site: {site}}}\n"
    config.write_text(text, encoding="utf-8")
    for lang in ("en", "zh"):
        page = render_for(load_config(str(config)).config, hostile_state, date.today(), lang)
        assert_escaped_once(
            page, "host name", "host site", "user", "device", "check", "repo", "snapshot path"
        )
        # the day's failed job is an incident: its name and error are escaped once there too
        incidents = page[page.index('id="incidents"') :]
        assert once("job") in incidents and once("job error") in incidents


def test_the_audit_report_shows_every_hostile_value_escaped_once() -> None:
    library, _ = load_library()
    results = [result(hostile("check")), result(hostile("waived-check"), "pass")]
    for lang, words in (("en", ("title", "reason")), ("zh", ("标题", "原因"))):
        page = render_report({"name": hostile("host name")}, results, library, lang)
        assert_escaped_once(page, "host name", "check", "waived-check", "approver", *words)
    # the evidence is JSON shown as text, escaped once
    evidence = json.dumps({"path": hostile("evidence")}, ensure_ascii=False, indent=1)
    assert f"<pre>{escape(evidence)}</pre>" in render_report({}, results, library, "en")


def test_the_fleet_report_shows_every_hostile_value_escaped_once() -> None:
    labels = {"job": "hostward", "instance": hostile("instance"), "site": "east"}
    up = [Sample(labels, 1.0)]
    status = [Sample({**labels, "check": hostile("check"), "rule": hostile("rule"), "severity": "high"}, 0.0)]
    hosts = judge(up, up, status, [], [])
    page = render_fleet(
        FleetReport(0.0, "http://p", "hostward", hosts, by_rule(hosts)), load_library()[0], "en"
    )
    assert_escaped_once(page, "instance", "check", "rule")


def test_the_checks_above_catch_a_value_escaped_twice_or_not_at_all() -> None:
    """The assertion the page tests rely on fails on both mistakes it is there to catch."""
    twice = str(escape(str(escape(hostile("device")))))
    for page in (f"<td>{hostile('device')}</td>", f"<td>{twice}</td>", "<td>nothing</td>"):
        with pytest.raises(AssertionError):
            assert_escaped_once(page, "device")
    assert_escaped_once(f"<td>{once('device')}</td>", "device")


SHELL = re.compile(
    r'<!DOCTYPE html><html lang="(zh-CN|en)" data-lang="(zh|en)"><head><meta charset="utf-8">'
    r'<meta name="viewport" content="width=device-width,initial-scale=1">'
    r'(<meta http-equiv="refresh" content="30">)?<title>[^<]*</title><style>(?P<css>[^<]*)</style></head>'
    r'<body class="(live|paper)">',
)


def test_the_four_pages_share_one_shell_and_one_stylesheet(tmp_path: Path, hostile_state: State) -> None:
    config = tmp_path / "hostward.yaml"
    config.write_text(f"version: 1\nstate_dir: {tmp_path / 'state'}\n", encoding="utf-8")
    library, _ = load_library()
    hosts = judge([], [], [], [], [])
    pages = {
        "status": render_status(hostile_state.snapshot(), "zh"),
        "daily": render_for(load_config(str(config)).config, hostile_state, date.today(), "zh"),
        "audit": render_report({"name": "pc"}, [result("c")], library, "zh"),
        "fleet": render_fleet(FleetReport(0.0, "http://p", "hostward", hosts, by_rule(hosts)), library, "zh"),
    }
    refresh = {}
    for name, page in pages.items():
        match = SHELL.match(page)
        assert match, (name, page[:400])
        assert match.group(1) == "zh-CN" and match.group("css") == str(STYLESHEET), name
        assert page.endswith("</body></html>") and page.count("<!DOCTYPE") == 1, name
        refresh[name] = bool(match.group(3))
    assert refresh == {"status": True, "daily": False, "audit": False, "fleet": False}  # only the live page
