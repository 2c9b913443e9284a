"""`hostward config validate|default` and `hostward run` on malformed configs, run as the real
console script: every problem printed as FILE:LINE: key.path: message, exit 2."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.config import Config, default_text
from common.schema import MAX_BYTES, load_text

Hostward = Callable[..., subprocess.CompletedProcess[str]]
WriteConfig = Callable[[str], Path]

MALFORMED = {
    "syntax error": (
        "version: 1\nhost:\n  role: office_pc\n  site: [unclosed\n",
        ["{f}:5: YAML syntax: expected ',' or ']', but got '<stream end>'"],
    ),
    "unknown key with a suggestion": (
        'version: 1\nexporter:\n  lisen: "127.0.0.1:9877"\n',
        ["{f}:3: exporter.lisen: unknown key (did you mean 'listen'?)"],
    ),
    "wrong type": (
        'version: 1\ncollect:\n  temperatures: "yes please"\n',
        ["{f}:3: collect.temperatures: expected true/false, got a string"],
    ),
    "bad value": (
        'version: 1\nexporter:\n  listen: "nowhere"\n',
        ['{f}:3: exporter.listen: must be "HOST:PORT", e.g. "127.0.0.1:9877" or "[::1]:9877"'],
    ),
    "hostile python tag": (
        'version: 1\nstate_dir: !!python/object/apply:os.system ["touch {marker}"]\n',
        ["{f}:2: state_dir: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"],
    ),
    "duplicate key": (
        "version: 1\nhost:\n  site: a\n  site: b\n",
        ["{f}:4: host.site: duplicate key"],
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_config_gets_the_documented_error_and_exit_2(
    case: str, write_config: WriteConfig, hostward: Hostward, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    text, expected = MALFORMED[case]
    path = write_config(text.replace("{marker}", str(marker)))
    result = hostward("config", "validate", "-c", str(path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [line.format(f=path) for line in expected]
    assert result.stdout == ""
    assert not marker.exists()


def test_a_missing_file_is_reported_at_line_0(hostward: Hostward, tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    result = hostward("config", "validate", "-c", str(path))
    assert result.returncode == 2
    assert result.stderr == f"{path}:0: cannot read: No such file or directory\n"


def test_a_file_over_the_size_limit_is_refused_unread(write_config: WriteConfig, hostward: Hostward) -> None:
    path = write_config("version: 1\n" + "#" * (MAX_BYTES + 10) + "\n")
    result = hostward("config", "validate", "-c", str(path))
    assert result.returncode == 2
    assert result.stderr == f"{path}:0: file is larger than {MAX_BYTES} bytes\n"


def test_an_alias_bomb_is_refused_quickly(write_config: WriteConfig, hostward: Hostward) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev = chr(96 + i)
        lines.append(f"{chr(97 + i)}: &{chr(97 + i)} [" + ",".join([f"*{prev}"] * 9) + "]")
    path = write_config("\n".join(lines) + "\n")
    result = hostward("config", "validate", "-c", str(path), timeout=20)
    assert result.returncode == 2
    assert result.stderr == f"{path}:2: YAML aliases (*name) are not allowed (81 in this file)\n"


def test_every_problem_in_one_file_is_reported_at_once(write_config: WriteConfig, hostward: Hostward) -> None:
    path = write_config("version: 2\nhost:\n  role: mainframe\n  sit: x\ncollect:\n  temperatures: 3\n")
    result = hostward("config", "validate", "-c", str(path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{path}:1: version: must be 1",
        f"{path}:3: host.role: must be one of office_pc, manager_pc, server, insurance_terminal, "
        "clinical_terminal, isolated_store",
        f"{path}:4: host.sit: unknown key (did you mean 'site'?)",
        f"{path}:6: collect.temperatures: expected true/false, got an integer",
    ]


def test_run_refuses_an_invalid_config_with_exit_2(write_config: WriteConfig, hostward: Hostward) -> None:
    path = write_config("version: 1\nstate_dir: {state}\nexporter:\n  lisen: x\n")
    for args in (("run", "-c", str(path)), ("run", "--once", "-c", str(path))):
        result = hostward(*args)
        assert result.returncode == 2
        assert result.stderr == f"{path}:4: exporter.lisen: unknown key (did you mean 'listen'?)\n"


def test_a_valid_config_says_so_and_exits_0(write_config: WriteConfig, hostward: Hostward) -> None:
    path = write_config("version: 1\nhost: {role: server, site: main-building}\n")
    result = hostward("config", "validate", "-c", str(path))
    assert (result.returncode, result.stdout, result.stderr) == (0, f"{path}: valid\n", "")


def test_the_printed_default_validates_and_loads_back_equal_to_the_embedded_one(
    write_config: WriteConfig, hostward: Hostward
) -> None:
    result = hostward("config", "default")
    assert result.returncode == 0
    assert result.stdout == default_text()
    assert load_text(Config, result.stdout) == Config()
    path = write_config(result.stdout)
    check = hostward("config", "validate", "-c", str(path))
    assert (check.returncode, check.stdout) == (0, f"{path}: valid\n")
    assert load_text(Config, result.stdout.replace("role: \"office_pc\"", "role: \"server\"")) != Config()
