"""`hostward report fleet`: compliance by rule and by host, read from a real Prometheus that
scrapes two real agents (one failing SW-1) and a target that is down."""

from __future__ import annotations

import re
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import bcrypt
import pytest
from reports_kit import (
    CHROMIUM,
    FAILING_CHECK,
    HOSTILE_SITE,
    PROMETHEUS,
    Fleet,
    chromium,
    free_port,
    hostward,
    png_drawn_share,
    wait_for,
)

from agent.report.fleet import FleetReport, by_rule, judge
from agent.report.fleet_html import render_fleet
from agent.report.prometheus import Sample, parse_time
from policies.library import load_library


def row(html: str, attr: str, value: str) -> str:
    """The <tr> whose `attr` is `value`; fails the test if there is none."""
    match = re.search(rf'<tr {attr}="{re.escape(value)}"[^>]*>.*?</tr>', html)
    assert match, f"no row {attr}={value}"
    return match.group(0)


def report(fleet: Fleet, tmp_path: Path, *extra: str, lang: str = "en") -> tuple[int, str, str, str]:
    out = tmp_path / f"fleet-{lang}.html"
    code, stdout, stderr = hostward(
        "report", "fleet", "-c", str(fleet.config), "--prometheus", fleet.prometheus,
        "--out", str(out), "--lang", lang, *extra,
    )  # fmt: skip
    return code, stdout, stderr, out.read_text(encoding="utf-8") if out.exists() else ""


def test_the_report_names_the_failing_host_and_rule_and_the_healthy_host_passes(
    fleet: Fleet, tmp_path: Path
) -> None:
    code, stdout, stderr, html = report(fleet, tmp_path)
    assert code == 0, stderr
    assert "3 hosts; compliant 1, non-compliant 1, could not determine 0, no data 1" in stdout
    bad = row(html, "data-host", fleet.bad)
    assert f"<td>pc-bad<br><small>{fleet.bad}</small></td>" in bad
    assert 'data-state="non_compliant"' in bad and f'data-check="{FAILING_CHECK}"' in bad and "SW-1" in bad
    assert "No tools this site forbids" in bad  # the check's title, from the site policy
    good = row(html, "data-host", fleet.good)
    assert 'data-state="compliant"' in good and "data-check" not in good
    rule = row(html, "data-rule", "SW-1")
    cells = rule.split("</td>")
    assert 'class="fail"' in rule and cells[2].endswith(">1")  # one host passes SW-1: the good one
    assert f"pc-bad ({fleet.bad})" in cells[3]  # the failing host, by its inventory name
    assert fleet.good not in "".join(cells[3:]) and "pc-good" not in "".join(cells[3:])  # fail, error, waived
    assert 'id="sum-fail">1<' in html and 'id="sum-pass">1<' in html
    assert f"Prometheus {fleet.prometheus}" in html


def test_the_clause_comes_from_the_rules_catalogue_in_each_language(fleet: Fleet, tmp_path: Path) -> None:
    library, _ = load_library()
    clause = library.rules["SW-1"].clause
    _, _, _, en = report(fleet, tmp_path, lang="en")
    code, _, _, zh = report(fleet, tmp_path, lang="zh")
    assert code == 0
    assert clause.en in row(en, "data-rule", "SW-1") and clause.zh not in en
    assert clause.zh in row(zh, "data-rule", "SW-1") and '<html lang="zh-CN"' in zh
    assert "不符合" in row(zh, "data-host", fleet.bad) and "无数据" in row(zh, "data-host", fleet.dead)


def test_a_host_that_is_down_is_no_data_never_passing(fleet: Fleet, tmp_path: Path) -> None:
    _, _, _, html = report(fleet, tmp_path)
    dead = row(html, "data-host", fleet.dead)
    assert 'data-state="no_data"' in dead and "scrape failed at that time (up == 0)" in dead
    assert 'id="sum-no_data">1<' in html and 'id="sum-compliant">1<' in html


def test_a_time_before_the_agents_existed_has_no_data_for_every_host(fleet: Fleet, tmp_path: Path) -> None:
    before = fleet.started - 600
    code, stdout, _, html = report(fleet, tmp_path, "--at", str(before))
    assert code == 0
    assert "compliant 0, non-compliant 0, could not determine 0, no data 3" in stdout
    assert 'id="no-data-at-all"' in html
    assert datetime.fromtimestamp(before, UTC).strftime("(%Y-%m-%d %H:%M:%S UTC)") in html  # the time asked
    for instance in (fleet.good, fleet.bad, fleet.dead):
        assert "not scraped at that time" in row(html, "data-host", instance)
    # RFC 3339 names the same moment
    stamp = datetime.fromtimestamp(before, UTC).isoformat()
    assert parse_time(stamp) == pytest.approx(before)


def test_strings_from_prometheus_are_escaped(fleet: Fleet, tmp_path: Path) -> None:
    _, _, _, html = report(fleet, tmp_path)
    assert HOSTILE_SITE not in html and "<img" not in html
    assert "site=&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in row(html, "data-host", fleet.bad)


def test_hostile_check_and_rule_ids_are_escaped_too() -> None:
    labels = {"job": "hostward", "instance": "<b>i</b>"}
    up = [Sample(labels, 1.0)]
    status = [Sample({**labels, "check": "<script>x</script>", "rule": '"><svg>', "severity": "high"}, 0.0)]
    hosts = judge(up, up, status, [], [])
    fleet = FleetReport(0.0, "http://p", "hostward", hosts, by_rule(hosts))
    html = render_fleet(fleet, load_library()[0], "en")
    assert "<script>" not in html and "<svg>" not in html and "<b>i" not in html
    assert "&lt;script&gt;" in html and "&#34;&gt;&lt;svg&gt;" in html


def test_a_host_behind_a_cut_off_site_is_site_unreachable_and_a_lone_missing_one_absent() -> None:
    """Against a federating central Prometheus: the series of a site's hosts stop when the site does."""
    east = {"job": "hostward", "instance": "10.20.2.11:9877", "host": "clinic-pc01", "site": "east-clinic"}
    main = {"job": "hostward", "instance": "10.10.2.21:9877", "host": "finance-pc01", "site": "main-building"}
    seen = [Sample(east, 1.0), Sample(main, 1.0)]
    lingering = [Sample(east, 1.0)]  # the site's last federated `up`, within the lookback
    hosts = {h.name: h for h in judge(lingering, seen, [], [], [], {"east-clinic"})}
    assert (hosts["clinic-pc01"].state, hosts["clinic-pc01"].no_data) == ("no_data", "site_unreachable")
    assert (hosts["finance-pc01"].state, hosts["finance-pc01"].no_data) == ("no_data", "absent")
    html = render_fleet(
        FleetReport(0.0, "http://p", "hostward", tuple(hosts.values()), ()), load_library()[0], "en"
    )
    assert "its site cannot be reached" in row(html, "data-host", east["instance"])


def test_prometheus_unreachable_exits_1_with_a_clear_message(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, _, err = hostward("report", "fleet", "--prometheus", url, "--out", str(tmp_path / "r.html"))
    assert code == 1
    assert f"cannot reach Prometheus at {url}" in err and "Connection refused" in err
    assert not (tmp_path / "r.html").exists()


def test_a_query_prometheus_refuses_exits_1(fleet: Fleet, tmp_path: Path) -> None:
    url = fleet.prometheus + "/no-such-prefix"
    code, _, err = hostward("report", "fleet", "--prometheus", url, "--out", str(tmp_path / "r.html"))
    assert code == 1 and "refused the query: HTTP 404" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--prometheus", "file:///etc/passwd"), "not an http(s) URL"),
        (("--prometheus", "http://user:secret@127.0.0.1:9"), "no credentials in the URL"),
        (("--prometheus", "http://127.0.0.1:9", "--at", "yesterday"), "not a time"),
        (("--prometheus", "http://127.0.0.1:9", "--job", 'x"} or vector(1'), "not a scrape job name"),
        (("--prometheus", "http://127.0.0.1:9", "--basic-auth-user", "u"), "give both"),
    ],
)
def test_bad_arguments_exit_2_and_say_why(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    code, _, err = hostward("report", "fleet", *args, "--out", str(tmp_path / "r.html"))
    assert code == 2 and message in err
    assert "secret" not in err


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium")
def test_the_report_renders_in_headless_chromium(fleet: Fleet, tmp_path: Path) -> None:
    code, _, _, _ = report(fleet, tmp_path, lang="zh")
    assert code == 0
    page = (tmp_path / "fleet-zh.html").as_uri()
    dom = chromium(page, tmp_path / "profile", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    for marker in ("终端合规情况报告", f'data-host="{fleet.bad}"', f'data-check="{FAILING_CHECK}"',
                   'data-rule="SW-1"', 'id="hosts-table"', "无数据"):  # fmt: skip
        assert marker in dom.stdout, marker
    shot = tmp_path / "fleet.png"
    chromium(page, tmp_path / "profile", f"--screenshot={shot}")
    width, height, drawn = png_drawn_share(shot.read_bytes())
    assert (width, height) == (900, 1270)
    # An empty page measures about 0.04% here; this report about 3%.
    assert drawn > 0.005, f"the screenshot looks blank ({drawn:.2%} drawn)"


@pytest.fixture(scope="module")
def guarded_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus behind its own basic auth (web config with a bcrypt hash), no targets."""
    if PROMETHEUS is None:
        pytest.skip("needs Debian prometheus")
    root = tmp_path_factory.mktemp("guarded")
    hashed = bcrypt.hashpw(b"s3cret-pass", bcrypt.gensalt(rounds=4)).decode()
    (root / "web.yml").write_text(f"basic_auth_users:\n  auditor: '{hashed}'\n", encoding="utf-8")
    (root / "prometheus.yml").write_text("global: {scrape_interval: 15s}\n", encoding="utf-8")
    port = free_port()
    argv = [PROMETHEUS, f"--config.file={root / 'prometheus.yml'}", f"--web.config.file={root / 'web.yml'}",
            f"--storage.tsdb.path={root / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"]  # fmt: skip
    with (root / "prometheus.log").open("wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_for(lambda: http_status(url + "/-/ready") == 401, 30, "the guarded Prometheus")
            yield url
        finally:
            proc.terminate()
            proc.wait(20)


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_basic_auth_reads_the_password_from_a_file(guarded_prometheus: str, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    fleet_report = ("report", "fleet", "--prometheus", guarded_prometheus, "--out", str(out))
    code, _, err = hostward(*fleet_report)
    assert code == 1 and "HTTP 401" in err and "--basic-auth-password-file" in err
    password = tmp_path / "prometheus.pass"
    password.write_text("s3cret-pass\n", encoding="utf-8")
    password.chmod(0o644)
    auth = ("--basic-auth-user", "auditor", "--basic-auth-password-file", str(password))
    code, _, err = hostward(*fleet_report, *auth)
    assert code == 1 and "readable by every user" in err
    password.chmod(0o600)
    code, stdout, err = hostward(*fleet_report, *auth)
    assert code == 0, err
    assert ": 0 hosts;" in stdout and "s3cret" not in out.read_text(encoding="utf-8") + stdout + err
