"""`python -m bench.backup`: hostward's dual backup against plain restic, in one run.

About 1 GiB of synthetic data (many small files, a few large ones; half incompressible) is
generated under bench/.work/backup (or $HOSTWARD_BENCH_DIR). Measured, side by side:

Every figure is the fastest of 3 interleaved rounds (the host is shared), with the median, the
spread between rounds (the noise) and the CPU seconds (restic's, plus this process' for the
mirror's hashing) beside the wall time (a steadier measure when other work runs).

1. plain `restic init` + `restic backup` to one repository (the anchor);
2. hostward's complete dual backup as `hostward backup init` and the first nightly run make it
   (init of the primary, the secondary made a mirror, backup, verified mirror, snapshot
   listings, coverage check with no gap): budget <= 1.5x the anchor; beside it the earlier
   design, two independent backups, and `backup` + `restic copy`;
3. wrapper overhead on a single backup (hostward's nightly run with one repository, no listing
   as the last run left no gap, vs plain restic on an initialised repository): budget <= 5 %;
   and the same with the listings a suspected gap adds;
4. the incremental dual backup after a 1 % change (mirror, independent, copy, plain restic);
5. restore throughput (MB/s) from the primary.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from backup.config import BackupConfig, RepositoriesConfig, RepositoryConfig
from backup.mirror import create_mirror
from backup.night import run_backup
from backup.plan import build_plan
from backup.restic import Repository, Restic
from backup.restore import resolve_snapshot, restore
from bench.backup.data import LARGE_FILES, SMALL_FILES, change_one_percent, generate, warm, work_dir
from collectors.system.runner import SubprocessRunner

RATIO_BUDGET = 1.5
OVERHEAD_BUDGET = 0.05


class Bench:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.password = work / "restic.pass"
        self.password.write_text("bench password\n")
        self.password.chmod(0o600)
        self.cache = work / "cache"
        self.source = work / "source"
        self.runner = SubprocessRunner()

    def fresh(self, name: str) -> Path:
        path = self.work / "repos" / name
        shutil.rmtree(path, ignore_errors=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def plain(self, *args: str, repo: Path, extra: dict[str, str] | None = None) -> None:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(self.work),
            "RESTIC_REPOSITORY": str(repo),
            "RESTIC_PASSWORD_FILE": str(self.password),
            "RESTIC_CACHE_DIR": str(self.cache),
            **(extra or {}),
        }
        subprocess.run(["restic", *args], env=env, check=True, stdout=subprocess.DEVNULL)

    def repo(self, name: str, path: Path) -> Repository:
        return Repository(name, str(path), password_file=str(self.password))

    def config(self, primary: Path, secondary: Path | None, mode: str) -> BackupConfig:
        pw = str(self.password)
        return BackupConfig(
            sources=(str(self.source),),
            repositories=RepositoriesConfig(
                primary=RepositoryConfig(url=str(primary), password_file=pw),
                secondary=RepositoryConfig(url=str(secondary), password_file=pw) if secondary else None,
            ),
            cache_dir=str(self.cache),
            secondary_mode=mode,  # type: ignore[arg-type]
        )

    def dual(
        self, primary: Path, secondary: Path | None, *, init: bool, mode: str = "mirror", history: bool
    ) -> float:
        """hostward's run as `hostward backup init` + the nightly job make it; `history`: the
        snapshot listings the job makes when a gap is suspected (first run, earlier gap)."""
        plan = build_plan(self.config(primary, secondary, mode), str(self.cache))
        started = time.monotonic()
        if init:
            for repo in plan.repositories:
                source = plan.mirror_source(repo)
                if source is not None:
                    create_mirror(source.url, repo.url)
                else:
                    plan.restic(repo, self.runner).init()
        result = run_backup(plan, self.runner, timeout=3600, list_history=history)
        elapsed = time.monotonic() - started
        if result.status != "ok" or result.coverage.gap:
            raise RuntimeError(f"hostward backup not consistent: {result.as_dict()}")
        if secondary is not None and mode == "mirror":
            assert {o.method for o in result.repositories} == {"backup", "mirror"}, result.as_dict()
        return elapsed


def measure(work: Path, rounds: int = 3) -> dict[str, Any]:
    """Every figure: `rounds` interleaved repetitions (other work shares the host)."""
    work.mkdir(parents=True, exist_ok=True)
    b = Bench(work)
    total = generate(b.source)
    warm(b.source)
    r: dict[str, Any] = {
        "data_bytes": total,
        "files": SMALL_FILES + LARGE_FILES,
        "cpus": os.cpu_count(),
        "rounds": rounds,
    }
    src = str(b.source)
    from_env = {"RESTIC_FROM_PASSWORD_FILE": str(b.password)}
    samples: dict[str, list[float]] = {}
    cpu_mark = [_cpu()]

    def add(key: str, value: float) -> None:
        """Record a wall time, and the CPU time (restic + the mirror's hashing) since `mark`."""
        samples.setdefault(key, []).append(value)
        now = _cpu()
        samples.setdefault(key.replace("_s", "_cpu_s", 1), []).append(now - cpu_mark[0])
        cpu_mark[0] = now

    def mark() -> None:
        cpu_mark[0] = _cpu()

    def timed(key: str, *steps: tuple[str, ...], repo: Path, extra: dict[str, str] | None = None) -> None:
        mark()
        t0 = time.monotonic()
        for args in steps:
            b.plain(*args, repo=repo, extra=extra)
        add(key, time.monotonic() - t0)

    for _ in range(rounds):
        # 1 + 2: plain init+backup vs hostward's complete dual backup (init of both included)
        timed("plain_init_backup_s", ("init",), ("backup", "-q", src), repo=b.fresh("plain"))
        mark()
        add("dual_init_backup_s", b.dual(b.fresh("primary"), b.fresh("secondary"), init=True, history=True))
        mark()
        add(
            "indep_init_backup_s",
            b.dual(b.fresh("i-primary"), b.fresh("i-secondary"), init=True, mode="independent", history=True),
        )
        # 3: wrapper overhead on one backup into an initialised, empty repository, in pairs
        # ordered plain, hostward, hostward, plain (ABBA: a load that drifts cancels out)
        for order in (("plain", "hostward"), ("hostward", "plain")):
            for who in order:
                repo = b.fresh(f"one-{who}")
                Restic(b.repo("primary", repo), b.runner, cache_dir=str(b.cache)).init()
                if who == "plain":
                    timed("single_plain_s", ("backup", "-q", src), repo=repo)
                else:
                    mark()
                    add("single_hostward_s", b.dual(repo, None, init=False, history=False))
        one_ls = b.fresh("one-ls")
        Restic(b.repo("primary", one_ls), b.runner, cache_dir=str(b.cache)).init()
        mark()
        add("single_listing_s", b.dual(one_ls, None, init=False, history=True))
        # 6: the alternative: backup + copy into a secondary with the primary's chunker parameters
        cp_primary, cp_secondary = b.fresh("copy-primary"), b.fresh("copy-secondary")
        env = {**from_env, "RESTIC_FROM_REPOSITORY": str(cp_primary)}
        mark()
        t0 = time.monotonic()
        b.plain("init", repo=cp_primary)
        b.plain("init", "--copy-chunker-params", repo=cp_secondary, extra=env)
        b.plain("backup", "-q", src, repo=cp_primary)
        b.plain("copy", "-q", repo=cp_secondary, extra=env)
        add("copy_init_backup_s", time.monotonic() - t0)

    # 4: incremental after a 1 % change (the repositories of the last round; nightly: no listing)
    repos = work / "repos"
    env = {**from_env, "RESTIC_FROM_REPOSITORY": str(repos / "copy-primary")}
    changed = 0
    for i in range(rounds):
        changed = change_one_percent(b.source, total, seed=11 + i)
        warm(b.source)
        timed("plain_incremental_s", ("backup", "-q", src), repo=repos / "plain")
        mark()
        add("dual_incremental_s", b.dual(repos / "primary", repos / "secondary", init=False, history=False))
        mark()
        add(
            "indep_incremental_s",
            b.dual(repos / "i-primary", repos / "i-secondary", init=False, mode="independent", history=False),
        )
        mark()
        t0 = time.monotonic()
        b.plain("backup", "-q", src, repo=repos / "copy-primary")
        b.plain("copy", "-q", repo=repos / "copy-secondary", extra=env)
        add("copy_incremental_s", time.monotonic() - t0)
    r["changed_bytes"] = changed

    # 5: restore throughput from the primary
    restic = Restic(b.repo("primary", work / "repos" / "primary"), b.runner, cache_dir=str(b.cache))
    for _ in range(rounds):
        target = work / "restore"
        shutil.rmtree(target, ignore_errors=True)
        mark()
        res = restore(restic, resolve_snapshot(restic, "latest"), str(target), timeout=3600)
        add("restore_s", res.duration)
        samples.setdefault("restore_mb_per_s", []).append(res.bytes / res.duration / 1e6)
        shutil.rmtree(target, ignore_errors=True)
    return _summarise(r, samples)


def _summarise(r: dict[str, Any], samples: dict[str, list[float]]) -> dict[str, Any]:
    """The fastest round is the best estimate of each cost on a shared host; the medians, the
    spread (max/min - 1: the noise) and all samples are kept too."""
    r.update({k: min(v) for k, v in samples.items()})
    r["restore_mb_per_s"] = max(samples["restore_mb_per_s"])
    r["median"] = {k: statistics.median(v) for k, v in samples.items()}
    r["spread"] = {k: max(v) / min(v) - 1 for k, v in samples.items() if min(v) > 0}
    r["samples"] = samples
    for key, base in (
        ("dual", "dual_init_backup"),
        ("indep", "indep_init_backup"),
        ("copy", "copy_init_backup"),
    ):
        r[f"{key}_ratio"] = r[f"{base}_s"] / r["plain_init_backup_s"]
        r[f"{key}_cpu_ratio"] = r[f"{base}_cpu_s"] / r["plain_init_backup_cpu_s"]
        r[f"{key}_median_ratio"] = r["median"][f"{base}_s"] / r["median"]["plain_init_backup_s"]
        r[f"{key}_paired"] = _paired(samples, f"{base}_s", "plain_init_backup_s")
        r[f"{key}_cpu_paired"] = _paired(samples, f"{base}_cpu_s", "plain_init_backup_cpu_s")
    # the budgets are judged on the median of the per-round (paired) ratios: both sides of a
    # pair ran seconds apart, under about the same load from the other work on the host
    r["wrapper_overhead"] = _paired(samples, "single_hostward_s", "single_plain_s") - 1
    r["wrapper_cpu_overhead"] = _paired(samples, "single_hostward_cpu_s", "single_plain_cpu_s") - 1
    r["listing_overhead"] = r["single_listing_s"] / r["single_plain_s"] - 1
    return r


def _paired(samples: dict[str, list[float]], key: str, base: str) -> float:
    """The median of the ratios of `key` to `base` taken round by round."""
    return statistics.median(a / b for a, b in zip(samples[key], samples[base], strict=True))


def _cpu() -> float:
    """CPU seconds of the children (restic) and of this process (the mirror's hashing)."""
    total = 0.0
    for who in (resource.RUSAGE_CHILDREN, resource.RUSAGE_SELF):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def main() -> int:
    if shutil.which("restic") is None:
        print("restic is not installed", file=sys.stderr)
        return 1
    work = work_dir()
    r = measure(work)
    (work / "result.json").write_text(json.dumps(r, indent=2))
    gib = r["data_bytes"] / 2**30
    print(f"data: {gib:.2f} GiB in {r['files']} files, {r['cpus']} CPUs")
    m = r["median"]

    def row(label: str, key: str, ratio: str = "") -> None:
        extra = f"  {r[ratio + '_paired']:.2f}x wall, {r[ratio + '_cpu_paired']:.2f}x CPU" if ratio else ""
        print(
            f"{label:34} {r[key + '_s']:6.1f} s (median {m[key + '_s']:5.1f}, "
            f"spread {100 * r['spread'][key + '_s']:3.0f} %)  CPU {r[key + '_cpu_s']:5.1f} s{extra}"
        )

    print("fastest round (median, spread max/min-1), CPU; ratios: median of the per-round ratios")
    row("plain restic init+backup", "plain_init_backup")
    row("hostward dual (mirror) init+backup", "dual_init_backup", "dual")
    row("two independent backups", "indep_init_backup", "indep")
    row("backup + restic copy", "copy_init_backup", "copy")
    row("single backup, plain restic", "single_plain")
    row("single backup, hostward nightly", "single_hostward")
    row("single backup, hostward + listing", "single_listing")
    print(
        f"wrapper overhead {100 * r['wrapper_overhead']:+.1f} % wall, "
        f"{100 * r['wrapper_cpu_overhead']:+.1f} % CPU (budget {100 * OVERHEAD_BUDGET:.0f} %)"
    )
    print(
        f"dual budget {RATIO_BUDGET}x: measured {r['dual_paired']:.2f}x wall, {r['dual_cpu_paired']:.2f}x CPU"
    )
    for key in ("plain_incremental", "dual_incremental", "indep_incremental", "copy_incremental", "restore"):
        row(key.replace("_", " "), key)
    print(f"restore from primary {r['restore_mb_per_s']:.0f} MB/s")
    ok = r["dual_paired"] <= RATIO_BUDGET and r["wrapper_overhead"] <= OVERHEAD_BUDGET
    return 0 if ok else 1
