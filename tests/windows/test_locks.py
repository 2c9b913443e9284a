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


PROBE_A_LIVE_PROCESS = r"""
import subprocess, sys, time
from backup.locks import pid_alive
from collectors.system.live_processes import live_process
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
try:
    time.sleep(1.0)
    found = live_process(child.pid)
    print(f"alive={pid_alive(child.pid, time.time())} name={found.name if found else None}")
    time.sleep(0.5)
    print(f"running={child.poll() is None}")
finally:
    child.kill()
    child.wait()
print(f"after={live_process(child.pid)}")
"""


def test_asking_whether_a_lock_owner_lives_never_stops_it_on_windows(wine_box: WineBox) -> None:
    """A restic lock names its owner's PID; on Windows os.kill(pid, 0) sends it Ctrl+C."""
    done = wine_box.python("-c", PROBE_A_LIVE_PROCESS)
    assert done.returncode == 0, done.describe()
    alive, name, running, after = done.out("cp1252").split()
    assert (alive, running, after) == ("alive=True", "running=True", "after=None")
    assert name in ("name=python", "name=None")  # Wine cannot always name a process: then it counts as alive
