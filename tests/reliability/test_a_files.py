"""Hostile config and policy files: each is refused with a `FILE:LINE` error, no code runs,
a 200 MB file costs neither time nor memory, and a running agent reloaded (SIGHUP) onto a
broken file keeps its last good config, then takes a good one."""

from __future__ import annotations

import re
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_kit import (
    HOSTWARD,
    MARKER,
    Agent,
    free_port,
    peak_child_rss,
    raw_get,
    run_hostward,
    status_of,
)

MB = 1024 * 1024
HUGE = 200 * MB
GOOD_CONFIG = """\
version: 1
state_dir: {state}
exporter: {listen: "127.0.0.1:PORT"}
audit: {schedule: {every: 1h, timeout: 60s}}
"""
ALIAS_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n"
              for i in range(8))
)
# Config text after `version: 1` -> (line, path, message) of the first problem reported.
BROKEN_CONFIGS = {
    "syntax error": ("host:\n  site: a\n   role: server\n", 4, "", "YAML syntax"),
    "wrong type": ("collect:\n  temperatures: maybe\n", 3, "collect.temperatures", "expected true/false"),
    "unknown key": ("collect:\n  shedule: {every: 1s}\n", 3, "collect.shedule", "unknown key"),
    "duplicate key": ("state_dir: /a\nstate_dir: /b\n", 3, "state_dir", "duplicate key"),
    "duplicate device": (
        "devices:\n"
        '  - {name: sw, kind: switch, address: "127.0.0.1:161", snmp: {version: "2c", community_file: /x}}\n'
        '  - {name: sw, kind: switch, address: "127.0.0.1:162", snmp: {version: "2c", community_file: /x}}\n',
        4, "devices[1].name", "duplicate device name 'sw'",
    ),
    "python tag": (
        f'host: {{site: !!python/object/apply:os.system ["touch {MARKER}"]}}\n', 2, "host.site", "YAML tag"
    ),
    "alias bomb": (ALIAS_BOMB, 3, "", "YAML aliases (*name) are not allowed"),
    "deep nesting": ("host: " + "[" * 100_000 + "]" * 100_000 + "\n", 2, "", "YAML nesting deeper than"),
}  # fmt: skip
GOOD_POLICY = """\
version: 1
checks:
  - id: ward.only_the_his_port
    title: {zh: 只开放HIS端口, en: Only the HIS port listens}
    rationale: the ward PC serves the hospital information system only
    rules: [SW-2]
    severity: medium
    remediation: {zh: 停止其他服务, en: stop other services}
    probe: {name: listening_services}
"""
BROKEN_POLICIES = {
    "syntax error": (GOOD_POLICY.replace("rules: [SW-2]", "rules: [SW-2"), 7, "YAML syntax"),
    "wrong type": (
        GOOD_POLICY.replace("rules: [SW-2]", "rules: {SW-2: 1}"), 6, "checks[0].rules: expected a list"
    ),
    "unknown key": (GOOD_POLICY + "    run: rm -rf /\n", 10, "checks[0].run: unknown key"),
    "duplicate id": (
        GOOD_POLICY + GOOD_POLICY.split("checks:\n")[1], 10, "duplicate check id 'ward.only_the_his_port'"
    ),
    "python tag": (
        GOOD_POLICY.replace("rationale: the ward PC", "rationale: !!python/object/apply:os.system")
        .replace("serves the hospital information system only", f'["touch {MARKER}"]'),
        5, "YAML tag",
    ),
    "alias bomb": (
        GOOD_POLICY + ALIAS_BOMB.replace("\n", "\n  ").replace("a: &a", "x-bomb:\n  a: &a"), 12, "aliases"
    ),
}  # fmt: skip


def problem_lines(stderr: str) -> list[tuple[str, int, str]]:
    found = re.findall(r"^(.+?):(\d+): (.*)$", stderr, re.MULTILINE)
    return [(f, int(line), rest) for f, line, rest in found]


@pytest.mark.parametrize("case", sorted(BROKEN_CONFIGS))
def test_a_broken_config_is_refused_with_file_and_line_and_runs_nothing(
    case: str, tmp_path: Path, no_marker: Path
) -> None:
    text, line, path, message = BROKEN_CONFIGS[case]
    config = tmp_path / "hostward.yaml"
    config.write_text("version: 1\n" + text, encoding="utf-8")
    result = run_hostward("config", "validate", "-c", str(config), timeout=30)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    first = problem_lines(result.stderr)[0]
    assert first[:2] == (str(config), line), result.stderr
    assert first[2].startswith(f"{path}: {message}" if path else message), result.stderr


@pytest.mark.parametrize("case", sorted(BROKEN_POLICIES))
def test_a_broken_policy_file_is_refused_with_file_and_line_and_runs_nothing(
    case: str, tmp_path: Path, no_marker: Path
) -> None:
    text, line, message = BROKEN_POLICIES[case]
    policy = tmp_path / "site.yaml"
    policy.write_text(text, encoding="utf-8")
    result = run_hostward("audit", "--validate-policies", str(policy), timeout=30)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    problems = [p for p in problem_lines(result.stderr) if p[0] == str(policy)]
    assert problems and problems[0][1] == line and message in problems[0][2], result.stderr


def huge_file(path: Path, head: str) -> Path:
    """`head`, then sparse zeros up to 200 MB: written in a millisecond, no disk used."""
    path.write_text(head, encoding="utf-8")
    with open(path, "r+b") as fh:
        fh.truncate(HUGE)
    return path


@pytest.mark.parametrize("kind", ["config", "policy"])
def test_a_200_mb_file_is_refused_fast_without_reading_it(kind: str, tmp_path: Path) -> None:
    content = "version: 1\n" if kind == "config" else GOOD_POLICY
    small = tmp_path / "small.yaml"
    small.write_text(content, encoding="utf-8")
    big = huge_file(tmp_path / "big.yaml", content)
    argv = (str(HOSTWARD), "config", "validate", "-c") if kind == "config" else (
        str(HOSTWARD), "audit", "--validate-policies")  # fmt: skip
    base, base_peak, _ = peak_child_rss((*argv, str(small)))
    result, peak, wall = peak_child_rss((*argv, str(big)))
    print(f"\n200 MB {kind}: refused in {wall:.2f}s, peak RSS {peak / MB:.1f} MB, small {base_peak / MB:.1f}")
    assert base.returncode == 0, base.stderr
    assert result.returncode == 2
    assert f"{big}:0: file is larger than {MB} bytes" in result.stderr
    assert peak - base_peak < 16 * MB
    assert wall < 10  # the CLI's own start-up on a loaded machine; the file is never read whole


def test_sighup_onto_each_broken_file_keeps_the_last_good_config_then_takes_a_good_one(
    start_agent: Callable[[str], Agent], no_marker: Path
) -> None:
    port = free_port()
    agent = start_agent(GOOD_CONFIG.replace("PORT", str(port)))
    agent.wait_serving()
    good = agent.config.read_text()
    agent.wait_for(lambda: "job audit" in agent.stderr and "job collect" in agent.stderr, what="warm-up")
    rss_before = agent.rss()
    cases = [(text, message) for text, _, _, message in BROKEN_CONFIGS.values()]
    cases.append(("huge", f"file is larger than {MB} bytes"))
    for refused, (text, message) in enumerate(cases, start=1):
        if text == "huge":
            huge_file(agent.config, good)
        else:
            agent.config.write_text(good + text, encoding="utf-8")
        agent.proc.send_signal(signal.SIGHUP)
        # The refusal and its problem lines are separate log records: wait for both.
        agent.wait_for(
            lambda n=refused: agent.stderr.count("reload refused") >= n
            and bool(problem_lines(agent.stderr.rsplit("reload refused", 1)[1])),
            what=f"refusal {refused}",
        )
        problems = problem_lines(agent.stderr.rsplit("reload refused", 1)[1])
        assert problems and all(p[0].endswith(f"agent.daemon: {agent.config}") for p in problems)
        assert any(message in p[2] for p in problems), (message, agent.stderr[-2000:])
        assert status_of(raw_get(port, "/healthz")) == 200
    growth = agent.rss() - rss_before
    print(f"\nSIGHUP onto {len(cases)} broken files: refused each, RSS growth {growth / MB:.1f} MB")
    assert growth < 16 * MB
    assert "Traceback" not in agent.stderr
    # A good file is taken: logs switch to JSON lines, the port stays.
    agent.config.write_text(good + "log: {format: json}\n", encoding="utf-8")
    agent.proc.send_signal(signal.SIGHUP)
    agent.wait_for(lambda: '"message": "reloaded the config' in agent.stderr, what="the good reload")
    assert status_of(raw_get(port, "/metrics")) == 200
    assert agent.proc.poll() is None


def test_control_characters_in_a_bad_key_are_escaped_on_the_terminal(tmp_path: Path) -> None:
    config = tmp_path / "hostward.yaml"
    config.write_text('version: 1\nhost: {"site\\e[2J\\nforged": 1}\n', encoding="utf-8")  # YAML's \e is ESC
    result = run_hostward("config", "validate", "-c", str(config), timeout=30)
    assert result.returncode == 2
    assert "\x1b" not in result.stderr
    assert result.stderr.splitlines() == [f"{config}:2: host.site\\x1b[2J\\nforged: unknown key"]  # one line
