"""Repositories, the state directory, restic's cache and the offline media inside a backup
source are excluded automatically: the repository does not grow with each run (issue 16,
item 8). Real restic, three runs each."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from backup_kit import Env, run_cli, write_cli_config, write_tree

from backup.excludes import exact_pattern, protected_excludes


def _size(top: Path) -> int:
    return sum(p.stat().st_size for p in top.rglob("*") if p.is_file())


def _config(env: Env, primary: Path, secondary: Path, state: Path, cache: Path) -> str:
    text = f"""\
version: 1
state_dir: {json.dumps(str(state))}
exporter: {{enabled: false}}
backup:
  sources: [{json.dumps(str(env.source))}]
  cache_dir: {json.dumps(str(cache))}
  repositories:
    primary: {{url: {json.dumps(str(primary))}, password_file: {json.dumps(str(env.password_file))}}}
    secondary: {{url: {json.dumps(str(secondary))}, password_file: {json.dumps(str(env.password_file))}}}
"""
    path = env.root / "hostward.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("spelling", ["glob characters", "through a symlink"])
def test_a_repository_state_and_cache_inside_the_source_are_not_backed_up_and_do_not_grow(
    env: Env, spelling: str
) -> None:
    write_tree(env.source, size=300_000)
    inside = env.source / {"plain": "backups", "glob characters": "备份[1]*?"}.get(spelling, "backups")
    inside.mkdir()
    for name in ("primary", "secondary"):
        shutil.copytree(env.template / name, inside / name)
    where = inside
    if spelling == "through a symlink":  # configured via a link outside the source
        where = env.root / "disk-link"
        where.symlink_to(inside)
    config = _config(env, where / "primary", where / "secondary", inside / "state", inside / "cache")
    sizes, added = [], []
    for _ in range(3):
        done = run_cli("backup", "run", "-c", config, "--json")
        assert done.returncode == 0, done.stderr + done.stdout
        result = json.loads(done.stdout)
        added.append(result["repositories"]["primary"]["summary"]["bytes_added"])
        sizes.append(_size(inside / "primary"))
    listed = env.restic("primary", inside / "primary").ls("latest")
    assert [n.path for n in listed if n.path.startswith(str(inside) + "/")] == []
    assert any(n.path.endswith("李四 报告.pdf") for n in listed)  # the data itself is there
    # Unexcluded, run 2 would re-add run 1's packs (>= 300 kB of random data) and run 3 both.
    assert added[0] > 300_000
    assert max(added[1:]) < 20_000, added
    assert sizes[2] - sizes[1] < 40_000, sizes


def test_protected_paths_become_exact_patterns_in_every_spelling_restic_walks(tmp_path: Path) -> None:
    real = tmp_path / "srv"
    (real / "b[a]ck*up").mkdir(parents=True)
    link = tmp_path / "data"
    link.symlink_to(real)
    source_via_link = str(link)  # restic walks /…/data/b[a]ck*up, the disk holds /…/srv/b[a]ck*up
    patterns = protected_excludes([source_via_link], [str(real / "b[a]ck*up")])
    assert exact_pattern(str(link / "b[a]ck*up"), windows=False) in patterns
    assert exact_pattern(str(real / "b[a]ck*up"), windows=False) in patterns
    assert protected_excludes([str(tmp_path / "elsewhere")], [str(real)]) == ()
    assert exact_pattern("/srv/b[a]ck*up?\\x", windows=False) == "/srv/b\\[a]ck\\*up\\?\\\\x"
    assert exact_pattern("C:\\b[a]ck*up?", windows=True) == "C:\\b[[]a]ck[*]up[?]"


def test_the_state_directory_and_the_last_offline_media_are_protected_by_the_agents_plan(env: Env) -> None:
    from agent.actions.backup_plan import plan_for
    from agent.config import load_config
    from agent.records.backup import BackupRecord, OfflineCopy
    from agent.state import State

    loaded = load_config(str(write_cli_config(env)))
    state = State.open(loaded.state_dir)
    media = env.source / "usb" / "hostward-offline"
    state.put_record(BackupRecord(offline=OfflineCopy("USB-0001", 1.0, str(media))))
    plan = plan_for(loaded.config, loaded.state_dir, state=state)
    assert {str(loaded.state_dir), str(media), str(env.root / "primary"), str(env.cache)} <= set(plan.protect)
    assert exact_pattern(str(media)) in protected_excludes(plan.sources, plan.protect)
