"""File locks on Windows (msvcrt.locking instead of fcntl.flock), under Wine."""

from __future__ import annotations

from wine_kit import WineBox

HOLD_TWICE = r"""
import sys
from pathlib import Path
from policies.undo import run_lock
path = Path(sys.argv[1])
with run_lock(path, wait=False) as first:
    with run_lock(path, wait=False) as second:
        print(f"first={first} second={second}")
with run_lock(path, wait=False) as again:
    print(f"again={again}")
"""


def test_the_enforcement_lock_refuses_a_second_holder_and_frees_on_release(wine_box: WineBox) -> None:
    folder = wine_box.scratch("locks")
    done = wine_box.python("-c", HOLD_TWICE, wine_box.win_path(folder) + "\\enforce.lock")
    assert done.returncode == 0, done.describe()
    assert done.out("cp1252").split() == ["first=True", "second=False", "again=True"]


JOURNAL_APPEND = r"""
import sys
from pathlib import Path
from agent.journal import Journal
journal = Journal(Path(sys.argv[1]))
for n in range(3):
    journal.append("test.windows", {"n": n, "text": "工作日志"})
"""


def test_journal_appends_under_the_windows_lock_form_an_intact_chain(wine_box: WineBox) -> None:
    folder = wine_box.scratch("journal-lock")
    state = wine_box.win_path(folder)
    done = wine_box.python("-c", JOURNAL_APPEND, state)
    assert done.returncode == 0, done.describe()
    (folder / "hostward.yaml").write_text(f"version: 1\nstate_dir: '{state}'\n", encoding="utf-8")
    verify = wine_box.hostward("journal", "verify", "-c", state + "\\hostward.yaml")
    assert verify.returncode == 0, verify.describe()
    assert "3 entries" in verify.out("cp1252")
