"""The policy library: complete, strictly validated, and robust against bad user files."""

from __future__ import annotations

from pathlib import Path

from policies.library import PolicyStore, load_library
from policies.probes import PROBES

RULE_IDS = (
    [f"USB-{i}" for i in (1, 2, 3)]
    + [f"AV-{i}" for i in (1, 2, 3)]
    + ["PATCH-1"]
    + [f"NET-{i}" for i in range(1, 8)]
    + ["PWD-1", "PWD-2", "ACC-1", "ACC-2", "LOCK-1"]
    + [f"SW-{i}" for i in (1, 2, 3)]
    + [f"BAK-{i}" for i in range(1, 7)]
    + [f"ROOM-{i}" for i in range(1, 7)]
)
GOOD_CHECK = """\
version: 1
checks:
  - id: site.extra_lock
    title: {zh: 额外锁屏, en: Extra lock}
    rationale: local rule
    rules: [LOCK-1]
    severity: low
    remediation: {zh: 设置, en: set it}
    probe: {name: screen_lock}
"""


def test_catalogue_holds_every_rule_of_rules_md_in_both_languages() -> None:
    library, problems = load_library()
    assert problems == []
    assert sorted(library.rules) == sorted(RULE_IDS)
    for rule in library.rules.values():
        assert rule.clause.zh and rule.clause.en and rule.source


def test_every_check_names_known_rules_and_a_registered_probe() -> None:
    library, _ = load_library()
    ids = [c.id for c in library.checks]
    assert len(ids) == len(set(ids)) == 47
    for spec in library.checks:
        assert spec.probe.name in PROBES
        assert spec.title.zh and spec.title.en and spec.remediation.zh
    covered = {r for c in library.checks for r in c.rules}
    assert {
        "USB-1",
        "USB-2",
        "USB-3",
        "AV-1",
        "AV-2",
        "AV-3",
        "PATCH-1",
        "NET-1",
        "NET-2",
        "NET-3",
        "NET-4",
        "NET-5",
        "PWD-1",
        "PWD-2",
        "ACC-1",
        "ACC-2",
        "LOCK-1",
        "SW-1",
        "SW-2",
        "SW-3",
    } <= covered


def test_user_policy_file_adds_checks(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text(GOOD_CHECK)
    library, problems = load_library([str(tmp_path)])
    assert problems == []
    assert library.check("site.extra_lock").rules == ("LOCK-1",)


def _problems(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "bad.yaml").write_text(text)
    library, problems = load_library([str(tmp_path)])
    assert len(library.checks) == 47  # the built-in library stays in force
    return [str(p) for p in problems]


def test_python_object_tag_is_rejected_with_file_and_line(tmp_path: Path) -> None:
    text = GOOD_CHECK.replace(
        "rationale: local rule", 'rationale: !!python/object/apply:os.system ["touch /tmp/pwned"]'
    )
    problems = _problems(tmp_path, text)
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path / 'bad.yaml'}:5: checks[0].rationale: YAML tag")
    assert not Path("/tmp/pwned").exists()


def test_unknown_key_is_rejected_with_file_and_line(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path, GOOD_CHECK.replace("severity: low", "severity: low\n    command: rm -rf /")
    )
    assert problems == [f"{tmp_path / 'bad.yaml'}:8: checks[0].command: unknown key"]


def test_bad_type_and_bad_severity_are_rejected(tmp_path: Path) -> None:
    text = GOOD_CHECK.replace("severity: low", "severity: extreme").replace(
        "rules: [LOCK-1]", "rules: LOCK-1"
    )
    problems = _problems(tmp_path, text)
    assert f"{tmp_path / 'bad.yaml'}:6: checks[0].rules: expected a list, got a string" in problems
    assert any(":7: checks[0].severity: must be one of" in p for p in problems)


def test_duplicate_check_id_is_rejected_with_file_and_line(tmp_path: Path) -> None:
    text = GOOD_CHECK.replace("site.extra_lock", "usb.storage_blocked")
    problems = _problems(tmp_path, text)
    assert len(problems) == 1
    assert problems[0].startswith(
        f"{tmp_path / 'bad.yaml'}:3: checks[0].id: duplicate check id 'usb.storage_blocked'"
    )


def test_duplicate_yaml_key_and_unknown_rule_and_probe_are_rejected(tmp_path: Path) -> None:
    dup_key = GOOD_CHECK.replace("severity: low", "severity: low\n    severity: high")
    assert any("duplicate key" in p for p in _problems(tmp_path, dup_key))
    assert any(
        "unknown rule ids: XYZ-9" in p for p in _problems(tmp_path, GOOD_CHECK.replace("LOCK-1", "XYZ-9"))
    )
    assert any(
        "unknown probe 'rm_rf'" in p for p in _problems(tmp_path, GOOD_CHECK.replace("screen_lock", "rm_rf"))
    )


def test_broken_edit_keeps_the_last_good_version_in_force(tmp_path: Path) -> None:
    policy = tmp_path / "site.yaml"
    policy.write_text(GOOD_CHECK)
    store = PolicyStore([str(tmp_path)])
    library, problems = store.load()
    assert "site.extra_lock" in [c.id for c in library.checks] and problems == []
    policy.write_text(GOOD_CHECK + "  - id: [broken\n")
    library, problems = store.load()
    assert "site.extra_lock" in [c.id for c in library.checks]
    assert problems and str(problems[0]).startswith(f"{policy}:")


def test_validate_policies_command_reports_file_and_line_and_exits_two(tmp_path: Path) -> None:
    from cli_helpers import hostward

    good = tmp_path / "good.yaml"
    good.write_text(GOOD_CHECK)
    code, out, _ = hostward("audit", "--validate-policies", str(good))
    assert code == 0 and out.startswith("48 checks, 34 rules: valid")
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD_CHECK.replace("site.extra_lock", "Not An Id"))
    code, _, err = hostward("audit", "--validate-policies", str(bad))
    assert code == 2
    assert err.startswith(f"{bad}:3: checks[0].id: must be a dotted lower-case id")
