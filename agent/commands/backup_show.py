"""How `hostward backup` prints: progress on a terminal, results as short bilingual tables."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from backup.model import Snapshot

if TYPE_CHECKING:  # the result types, for the hints only: `backup restore` loads no backup job
    from backup.coverage import Coverage
    from backup.outcome import RunResult
    from backup.results import DrillResult, VerifyResult

_STATUS = {"ok": "成功 ok", "partial": "部分 partial", "failed": "失败 failed"}


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


class Progress:
    """One status line on stderr, redrawn at most 4 times a second (only on a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.parts: dict[str, str] = {}
        self.lock = threading.Lock()
        self.last = 0.0

    def backup_status(self, repository: str, status: Mapping[str, Any]) -> None:
        """A restic `--json` status line of one repository's backup."""
        pct = float(status.get("percent_done") or 0.0) * 100
        done = human(float(status.get("bytes_done") or 0))
        self.show(repository, f"{pct:5.1f}% {done}")

    def restore_status(self, done: int, total: int) -> None:
        if not total:  # no listing was made (it would cost a tenth of the restore): bytes only
            self.show("restore", f"{human(done)} / 已恢复")
            return
        pct = 100.0 * done / total
        self.show("restore", f"{min(pct, 100.0):5.1f}% {human(done)} / {human(total)}")

    def show(self, key: str, text: str) -> None:
        if not self.enabled:
            return
        with self.lock:
            self.parts[key] = text
            now = time.monotonic()
            if now - self.last < 0.25:
                return
            self.last = now
            line = "  ".join(f"{k}: {v}" for k, v in sorted(self.parts.items()))
            sys.stderr.write("\r\x1b[2K" + line)
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled and self.parts:
            sys.stderr.write("\n")
            sys.stderr.flush()


def print_run(result: RunResult) -> None:
    print(f"备份 Backup run {result.run_id}: {_STATUS[result.status]} ({result.duration:.1f}s)")
    for h in result.hooks:
        mark = "ok" if h.ok else f"FAILED exit {h.returncode}: {h.message}"
        print(f"  hook {h.phase} {h.argv0}: {mark}")
    for p in result.source_problems:
        print(f"  来源未备份 source NOT backed up: {p}")
    for o in result.repositories:
        line = f"  {o.repository:<9} {_STATUS[o.status]:<14}"
        if o.summary is not None:
            s = o.summary
            line += (
                f" snapshot {s.snapshot_id}  files {s.files_processed}  added {human(s.bytes_added)}"
                f"  {o.duration:.1f}s"
            )
            if s.unreadable:
                line += f"\n            不可读 unreadable ({len(s.unreadable)}): " + ", ".join(
                    s.unreadable[:5]
                )
        if o.error:
            line += f" [{o.error_kind}] {o.error}"
        print(line)
    if result.coverage.gap:
        for repo, runs in result.coverage.missing.items():
            print(f"  覆盖缺口 coverage gap: {repo} lacks {len(runs)} run(s): {', '.join(runs[:5])}")
    elif not result.coverage.rows:
        print("  覆盖 coverage: unknown, no repository could be listed / 无法确认")
    else:
        print("  覆盖 coverage: both repositories hold every run")


def print_snapshots(
    listed: Mapping[str, Sequence[Snapshot]], cover: Coverage, errors: Mapping[str, str]
) -> None:
    names = sorted(set(listed) | set(errors))
    print(f"{'时间 Time':<21} {'运行 Run':<24} " + " ".join(f"{n:<10}" for n in names))
    for row in cover.rows:
        cells = " ".join(f"{(row.snapshot_ids.get(n) or '—')[:8]:<10}" for n in names)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row.time))
        print(f"{stamp:<21} {row.run_id:<24} {cells}")
    for name, snaps in listed.items():
        other = [s for s in snaps if not s.run_id and not s.original]
        for s in other:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(s.time))
            print(f"{stamp:<21} {'(manual) ' + name:<24} {s.short_id}  {' '.join(s.paths)}")
    for name, message in errors.items():
        print(f"{name}: 无法读取 cannot list: {message}")
    if cover.gap:
        for repo, runs in cover.missing.items():
            print(f"覆盖缺口 coverage gap: {repo} lacks {', '.join(runs)}")
    if errors:
        print(f"覆盖 coverage: unknown, {', '.join(sorted(errors))} cannot be listed / 无法确认")
    elif not cover.gap:
        print("覆盖 coverage: no gap")


def print_verify(result: VerifyResult) -> None:
    for c in result.checks:
        mark = "通过 ok" if c.ok else f"失败 FAILED [{c.error_kind or 'check'}]"
        print(f"{c.repository:<9} {mark}  read-data {c.subset}  {c.duration:.1f}s")
        for problem in c.problems[:10]:
            print(f"    {problem}")


def print_drill(result: DrillResult, report: str) -> None:
    mark = "通过 ok" if result.ok else f"失败 FAILED [{result.error_kind or 'drill'}]"
    print(
        f"{result.repository:<9} {mark}  snapshot {result.snapshot_id[:8]}  files {result.files}  "
        f"{human(result.bytes)}  time to restore {result.duration:.2f}s"
    )
    if result.error:
        print(f"    {result.error}")
    if report:
        print(f"    report: {report}")
