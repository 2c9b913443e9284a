"""A full disk (the state directory on a small tmpfs, filled to the last byte), for real.

- A journal line that does not fit is cut back: the file is byte for byte as before, the head
  unchanged, the failure counted; nothing half-written remains.
- A line that fits when its head does not: the entry stands (no "cannot write" for it), the
  head lags, the next append after space returns continues from the entry.
- The running agent on a disk that fills and then frees: every journal line whole, the chain
  intact during and after, write errors on /metrics and logged once each; a job whose run could
  not be stored shows `hostward_job_success 0`, then 1 again.
"""

from __future__ import annotations

import logging
import time
import urllib.request
from pathlib import Path

import pytest
from reliability_c_kit import fill, hostward, journal_lines, needs_root, sample, tmpfs
from testkit import AgentProcess, agent_env, free_port

from agent import faults
from agent.journal import Journal, JournalError

pytestmark = needs_root
PAGE = 4096


def pad_to(journal: Journal, room: int) -> None:
    """Append entries until the file ends `room` bytes before a page boundary (tmpfs allocates
    whole pages: a line that fits in the last page needs no new one)."""
    for _ in range(6):
        size = journal.path.stat().st_size if journal.path.exists() else 0
        if size and size % PAGE == PAGE - room:
            return
        probe = journal.append("test.pad", {"pad": ""})
        line = journal.path.stat().st_size - size
        overhead = line - len(probe.data["pad"])
        want = (PAGE - room - (size + line) % PAGE) % PAGE
        if want < overhead + 1:
            want += PAGE
        journal.append("test.pad", {"pad": "x" * (want - overhead)})
    raise AssertionError("could not place the end of the journal")


def test_a_line_that_does_not_fit_is_cut_back_and_counted(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "1m") as disk:
        journal = Journal(disk / "state")
        pad_to(journal, room=20)  # the next line needs a new page
        before = (journal.path.read_bytes(), journal.head_path.read_bytes())
        errors = faults.snapshot()[1].get("journal_write")
        filler = fill(disk)
        with pytest.raises(JournalError, match=r"No space left|short write"):
            journal.append("backup.run", {"status": "ok", "note": "病历" * 40})
        assert (journal.path.read_bytes(), journal.head_path.read_bytes()) == before
        after = faults.snapshot()[1]["journal_write"]
        assert after.count == (errors.count if errors else 0) + 1
        filler.unlink()
        entry = journal.append("backup.run", {"status": "ok"})
        result = journal.verify()
        assert result.ok and result.entries == entry.seq, result


def test_an_entry_written_when_its_head_is_not_stands_and_the_chain_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with tmpfs(tmp_path / "disk", "1m") as disk:
        journal = Journal(disk / "state")
        pad_to(journal, room=1500)  # the next line fits in the last page; a new head file does not
        head = journal.head_path.read_bytes()
        filler = fill(disk)
        with caplog.at_level(logging.ERROR, logger="agent.journal"):
            entry = journal.append("backup.run", {"status": "ok"})
        assert journal_lines(disk / "state")[-1]["hash"] == entry.hash
        assert journal.head_path.read_bytes() == head  # lagging, never half-written
        count = faults.snapshot()[1]["journal_write"].count
        assert [r.getMessage() for r in caplog.records] == [
            f"journal: entry {entry.seq} (backup.run) was written but its head could not be updated: "
            f"[Errno 28] No space left on device (journal write error {count})"
        ]
        assert journal.verify().ok
        filler.unlink()
        nxt = journal.append("backup.run", {"status": "ok"})
        assert (nxt.seq, nxt.prev) == (entry.seq + 1, entry.hash)
        result = journal.verify()
        assert result.ok and result.entries == nxt.seq


# `hostward run` with one more job: every second it journals through the agent's own helper.
WITH_NOTE_JOB = """
import sys
import agent.jobs as jobs
from agent.actions.backup_plan import journal
from agent.actions.base import JobOutcome
from common.schema.common import Schedule
from common.schema.fields import Duration

def note(ctx):
    journal(ctx.state_dir, "test.note", {"text": "ward 3 病历 " * 8})
    return JobOutcome(True)

every = Schedule(every=Duration(1), timeout=Duration(5))
jobs.JOBS = jobs.JOBS + (jobs.JobSpec("note", lambda c: every, note),)
from agent.cli import main
sys.exit(main(sys.argv[1:]))
"""


def scrape(url: str) -> str:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        return str(response.read().decode("utf-8"))


def notes(state: Path) -> int:
    """test.note entries so far (none before the agent's first journal line: the banner the test
    waits for is printed before it)."""
    if not (state / "journal.jsonl").exists():
        return 0
    return sum(1 for item in journal_lines(state) if item["kind"] == "test.note")


def test_the_agent_on_a_disk_that_fills_and_frees_keeps_its_journal_whole_and_says_so(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "4m") as disk:
        state = disk / "state"
        cfg = tmp_path / "hostward.yaml"
        cfg.write_text(
            f"version: 1\nstate_dir: {state}\n"
            f'exporter: {{listen: "127.0.0.1:{free_port()}"}}\n'
            "collect: {schedule: {every: 1s, timeout: 5s}}\n"
            "audit: {schedule: {every: 1h, enabled: false}}\n"
            'report: {daily: {schedule: {at: "23:55", enabled: false}}}\n',
            encoding="utf-8",
        )
        agent = AgentProcess(tmp_path, cfg, script=WITH_NOTE_JOB, env=agent_env())
        try:
            url = agent.url()
            agent.wait_for(lambda: notes(state) >= 2, what="journal entries")
            filler = fill(disk)
            full_since = notes(state)

            def failing() -> bool:
                body = scrape(url)
                return ((sample(body, "hostward_journal_write_errors_total") or 0) >= 2
                        and (sample(body, "hostward_state_write_errors_total") or 0) >= 1
                        and sample(body, "hostward_job_success", job="collect") == 0)

            agent.wait_for(failing, timeout=20, what="write errors on /metrics")
            during = scrape(url)
            assert sample(during, "hostward_journal_last_write_error_timestamp_seconds") is not None
            middle = hostward("journal", "verify", "-c", str(cfg))
            assert middle.returncode == 0, middle.stdout + middle.stderr  # never TAMPERED by a full disk
            journal_lines(state)  # lines that still fitted in the last page are whole
            full_since = notes(state)
            filler.unlink()
            agent.wait_for(lambda: notes(state) >= full_since + 3, timeout=20, what="entries after the space")
            agent.wait_for(lambda: sample(scrape(url), "hostward_job_success", job="collect") == 1,
                           timeout=20, what="collect recorded again")
            time.sleep(0.5)
            errors = sample(scrape(url), "hostward_journal_write_errors_total")
        finally:
            assert agent.stop() == 0
        log = agent.stderr
        done = hostward("journal", "verify", "-c", str(cfg))
        assert done.returncode == 0 and "intact" in done.stdout, done.stdout + done.stderr
        items = journal_lines(state)
        assert [i["seq"] for i in items] == list(range(1, len(items) + 1))
        written = sum(log.count(s) for s in ("journal: cannot record", "cannot write the journal",
                                             "its head could not be updated"))
        assert errors is not None and written == errors, (written, errors)  # once per failure
        assert "the state could not be written" in log or "cannot record the run of job" in log
        print(f"\nFIGURE full disk: {errors:.0f} journal write errors, "
              f"{sample(during, 'hostward_state_write_errors_total'):.0f}+ state write errors; "
              f"{len(items)} entries intact")


def journal_files(journal: Journal) -> list[tuple[str, bytes]]:
    """The journal's own files (the state database next to them keeps the head's copy)."""
    return sorted((p.name, p.read_bytes()) for p in journal.dir.glob("journal*"))


def test_a_torn_tail_that_cannot_be_set_aside_on_a_full_disk_stays_until_space_returns(
    tmp_path: Path,
) -> None:
    with tmpfs(tmp_path / "disk", "1m") as disk:
        journal = Journal(disk / "state")
        for i in range(3):
            journal.append("test.seed", {"i": i})
        with open(journal.path, "ab") as fh:
            fh.write(b'{"actor": "root", "da')  # a write cut by a crash
        before = journal_files(journal)
        filler = fill(disk)
        with pytest.raises(JournalError):
            journal.append("agent.start", {})
        assert journal_files(journal) == before
        filler.unlink()
        journal.append("agent.start", {})
        assert [e.kind for e in journal.entries()][-2:] == ["journal.torn_tail_quarantined", "agent.start"]
        result = journal.verify()
        assert result.ok and len(result.notes) == 1, result
