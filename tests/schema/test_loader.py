"""The strict YAML schema loader: every problem at once, located, and nothing executed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from common.schema import Duration, SchemaError, load_file, load_text, render_default, setting
from common.schema.common import Schedule
from common.schema.fields import between, parse_duration


@dataclass(frozen=True)
class Inner:
    port: int = setting(161, "A port.", check=between(1, 65535))
    names: tuple[str, ...] = setting((), "Names.")


@dataclass(frozen=True)
class Outer:
    name: str = setting(doc="Required name.")
    enabled: bool = setting(True, "Switch.")
    ratio: float = setting(0.5, "A ratio.")
    wait: Duration = setting(Duration(30), "A wait.")
    inner: Inner = setting(factory=Inner, doc="Nested.")
    items: tuple[Inner, ...] = setting((), "A list of nested.")
    labels: dict[str, str] = setting(factory=dict, doc="Labels.")
    maybe: Inner | None = setting(None, "Optional nested.")


def problems(text: str) -> list[str]:
    with pytest.raises(SchemaError) as info:
        load_text(Outer, text, "f.yaml")
    return [str(p) for p in info.value.problems]


def test_valid_document_becomes_frozen_dataclasses() -> None:
    value = load_text(
        Outer,
        "name: core\nwait: 1h30m\ninner: {port: 162, names: [a, b]}\nitems: [{port: 1}]\n"
        "labels: {site: 主楼}\nmaybe: {port: 2}\n",
    )
    assert value == Outer(
        name="core",
        wait=Duration(5400),
        inner=Inner(162, ("a", "b")),
        items=(Inner(1),),
        labels={"site": "主楼"},
        maybe=Inner(2),
    )


def test_every_problem_is_reported_at_once_with_line_and_path() -> None:
    text = "name: x\nenabeld: true\nratio: high\ninner:\n  port: 70000\nitems:\n  - port: [1]\n"
    assert problems(text) == [
        "f.yaml:2: enabeld: unknown key (did you mean 'enabled'?)",
        "f.yaml:3: ratio: expected a number, got a string",
        "f.yaml:5: inner.port: must be between 1 and 65535",
        "f.yaml:7: items[0].port: expected an integer, got a list",
    ]


def test_missing_required_key_is_named() -> None:
    assert problems("enabled: false\n") == ["f.yaml:1: name: required key is missing"]


def test_duplicate_keys_are_refused() -> None:
    assert problems("name: a\nname: b\n") == ["f.yaml:2: name: duplicate key"]


def test_python_tags_never_construct_anything(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f"name: !!python/object/apply:os.system ['touch {marker}']\n"
    assert problems(text) == [
        "f.yaml:1: name: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"
    ]
    assert not marker.exists()


def test_alias_bomb_is_refused_without_expanding() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
    for i, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[i]
        bomb += f"{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
    text = "name: x\nlabels:\n  k: &v hello\n  j: *v\n"
    assert problems(text) == ["f.yaml:4: YAML aliases (*name) are not allowed"]
    # Refused from the event stream, before any node is built: the bomb costs nothing.
    found = problems("name: x\n" + bomb)
    assert found == ["f.yaml:3: YAML aliases (*name) are not allowed (63 in this file)"]


def test_syntax_error_is_located() -> None:
    assert problems("name: x\ninner: [1,\n") == [
        "f.yaml:3: YAML syntax: expected the node content, but found '<stream end>'"
    ]


def test_oversized_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"name: x\n" + b"#" * (2 * 1024 * 1024))
    with pytest.raises(SchemaError) as info:
        load_file(Outer, path)
    assert str(info.value) == f"{path}:0: file is larger than 1048576 bytes"


def test_missing_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(SchemaError) as info:
        load_file(Outer, tmp_path / "nope.yaml")
    assert str(info.value) == f"{tmp_path / 'nope.yaml'}:0: cannot read: No such file or directory"


def test_durations_parse_and_refuse_garbage() -> None:
    assert parse_duration("1d2h3m4s") == 93784
    assert parse_duration("250ms") == 0.25
    for bad in ("", "5", "5 m", "m5", "1h-1m"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_schedule_needs_exactly_one_of_every_and_at() -> None:
    with pytest.raises(SchemaError) as info:
        load_text(Schedule, "every: 1m\nat: '02:30'\n", "s.yaml")
    assert [str(p) for p in info.value.problems] == ["s.yaml:1: every: give exactly one of `every` and `at`"]
    # An unquoted 02:30 is a YAML 1.1 sexagesimal integer; the raw text is what counts.
    assert load_text(Schedule, "at: 02:30\n").time_of_day() == (2, 30)


def test_rendered_default_loads_back_to_the_default() -> None:
    text = render_default(Inner, "header line")
    assert text.startswith("# header line\n")
    assert "# A port." in text
    assert load_text(Inner, text) == Inner()
