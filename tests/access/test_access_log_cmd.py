"""`hostward access-log`: the archive shown as a table (zh/en), as JSON lines, filtered by time
and user; a cp1252 console gets English and no crash; a bad --since is a usage error."""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path

import pytest

from agent.access.archive import Archive
from agent.cli import main
from agent.commands.access_log_cmd import format_table
from collectors.access import AccessEvent


@pytest.fixture
def config(tmp_path: Path) -> str:
    state = tmp_path / "state"
    now = time.time()
    Archive(state).append(
        [
            AccessEvent(now - 7200, "failed_login", "root", "btmp", "ssh:notty", "203.0.113.5"),
            AccessEvent(now - 60, "login", "PC-01\\zhangwei", "security", "windows", "", {"logon_type": "2"}),
            AccessEvent(
                now - 30,
                "usb",
                "zhangwei",
                "uevent",
                "connected",
                "",
                {"vendor": "Kingston", "product": "DataTraveler 3.0", "serial": "E0D55EA5"},
            ),
        ],
        now,
    )
    path = tmp_path / "hostward.yaml"
    path.write_text(f"version: 1\nstate_dir: {state}\n", encoding="utf-8")
    return str(path)


def test_json_lines_filtered_by_since_and_by_user_with_or_without_the_domain(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["access-log", "-c", config, "--since", "1h", "--json"]) == 0
    kinds = [json.loads(line)["kind"] for line in capsys.readouterr().out.splitlines()]
    assert kinds == ["login", "usb"]
    assert main(["access-log", "-c", config, "--since", "1d", "--user", "zhangwei", "--json"]) == 0
    users = [json.loads(line)["user"] for line in capsys.readouterr().out.splitlines()]
    assert users == ["PC-01\\zhangwei", "zhangwei"]


def test_a_bad_since_is_a_usage_error(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["access-log", "-c", config, "--since", "yesterday-ish"]) == 2
    assert "--since" in capsys.readouterr().err


def test_the_table_has_chinese_or_english_headings_and_survives_a_cp1252_console(
    config: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = AccessEvent(0.0, "failed_login", "bob\x1b[2J", "btmp")
    assert "登录失败" in format_table([event], chinese=True)
    english = format_table([event], chinese=False)
    assert "failed login" in english and "\x1b" not in english
    raw = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding="cp1252"))
    assert main(["access-log", "-c", config, "--since", "1d"]) == 0
    sys.stdout.flush()
    text = raw.getvalue().decode("cp1252")
    assert "Kingston" in text and "failed login" in text
