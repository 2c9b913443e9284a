"""`python -m bench.backup.restore_speed`: `hostward backup restore` against `restic restore --verify`.

The whole command as ops staff run it (a new Python process, config load, snapshot lookup, the
live-data guard, restic restore --verify, the journal) against restic alone on the same
snapshot and cache, in interleaved rounds (the host is shared): the figure is the median of
the per-round ratios (goal <= 1.05x, limit 1.2x). The data set (~370 MB by default, 10 000
files of 1-31 KiB, half text, half random, and two 96 MiB files) is made once under
$HOSTWARD_BENCH_DIR/restore; $HOSTWARD_BENCH_RESTORE_SMALL sets the small-file count.
$HOSTWARD_BENCH_AGENT_ROOT runs another checkout's `python -m agent` (a before/after).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.backup.data import work_dir

GOAL, LIMIT = 1.05, 1.2
TEXT = ("患者 记录 patient record 2026 " * 64).encode()


def generate(source: Path, small: int) -> int:
    marker = source / f".complete-{small}"
    if not marker.exists():
        shutil.rmtree(source, ignore_errors=True)
        rng = random.Random(7)
        for i in range(small):
            folder = source / "small" / f"d{i % 100:03d}"
            folder.mkdir(parents=True, exist_ok=True)
            size = rng.randint(1024, 31 * 1024)
            body = os.urandom(size) if i % 2 else (TEXT * (size // len(TEXT) + 1))[:size]
            (folder / f"文件{i:05d}.dat").write_bytes(body)
        for i in range(2):
            with open(source / f"large{i}.bin", "wb") as fh:
                for _ in range(12):
                    fh.write(
                        os.urandom(8 << 20) if i == 0 else (TEXT * ((8 << 20) // len(TEXT) + 1))[: 8 << 20]
                    )
        marker.write_text("ok")
    return sum(p.stat().st_size for p in source.rglob("*") if p.is_file())


def main() -> int:
    if shutil.which("restic") is None:
        print("restic is not installed", file=sys.stderr)
        return 1
    work = work_dir() / "restore"
    work.mkdir(parents=True, exist_ok=True)
    source, repo, cache = work / "source", work / "repo", work / "cache"
    size = generate(source, int(os.environ.get("HOSTWARD_BENCH_RESTORE_SMALL", "10000")))
    password = work / "restic.pass"
    password.write_text("bench password\n")
    password.chmod(0o600)
    env = {
        "PATH": os.environ["PATH"], "HOME": str(work), "RESTIC_REPOSITORY": str(repo),
        "RESTIC_PASSWORD_FILE": str(password), "RESTIC_CACHE_DIR": str(cache),
    }  # fmt: skip
    if not (repo / "config").exists():
        subprocess.run(["restic", "init"], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(
            ["restic", "backup", "-q", str(source)], env=env, check=True, stdout=subprocess.DEVNULL
        )
    # hostward runs restic through a wrapper that logs each run's start and end: what hostward
    # adds outside restic's own runs is then measured directly, steadier than the wall ratio
    timing = work / "restic-runs.log"
    wrapper = work / "restic-timed"
    wrapper.write_text(
        '#!/bin/sh\ns=$(date +%s.%N)\nrestic "$@"\nrc=$?\n'
        f'printf "%s %s %s\\n" "$1" "$s" "$(date +%s.%N)" >> "{timing}"\nexit $rc\n',
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    config = work / "hostward.yaml"
    config.write_text(
        f'version: 1\nstate_dir: "{work / "state"}"\nexporter: {{enabled: false}}\nbackup:\n'
        f'  sources: ["{source}"]\n  cache_dir: "{cache}"\n  restic: "{wrapper}"\n'
        f'  repositories:\n    primary: {{url: "{repo}", password_file: "{password}"}}\n',
        encoding="utf-8",
    )
    root = os.environ.get("HOSTWARD_BENCH_AGENT_ROOT") or str(Path(__file__).resolve().parents[2])
    target = work / "target"
    # an installed agent runs from compiled bytecode (pip and the MSI compile it): allow Python to
    # cache it even where the shell forbids it, and warm it once before the rounds
    hw_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    hw_env["PYTHONPATH"] = root
    subprocess.run(
        [sys.executable, "-m", "agent", "--help"], env=hw_env, cwd=root, check=True, stdout=subprocess.DEVNULL
    )
    samples: dict[str, list[float]] = {"restic_s": [], "hostward_s": [], "ratio": [], "outside_s": []}
    runs: list[list[str]] = []
    rounds = int(os.environ.get("HOSTWARD_BENCH_ROUNDS", "3"))
    for i in range(rounds):
        times: dict[str, float] = {}
        order = ("restic", "hostward") if i % 2 == 0 else ("hostward", "restic")
        for who in order:
            shutil.rmtree(target, ignore_errors=True)
            if who == "restic":
                argv = ["restic", "restore", "latest", "--target", str(target), "--verify"]
                run_env, cwd = env, str(work)
            else:
                argv = [sys.executable, "-m", "agent", "backup", "restore", "-c", str(config),
                        "--snapshot", "latest", "--target", str(target)]  # fmt: skip
                run_env, cwd = hw_env, root
            timing.unlink(missing_ok=True)
            started = time.monotonic()
            subprocess.run(argv, env=run_env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
            times[who] = time.monotonic() - started
            if who == "hostward":
                logged = [line.split() for line in timing.read_text().splitlines()]
                restore_s = sum(float(e) - float(s) for sub, s, e in logged if sub == "restore")
                samples["outside_s"].append(times[who] - restore_s)
                runs.append([sub for sub, _s, _e in logged])
        samples["restic_s"].append(times["restic"])
        samples["hostward_s"].append(times["hostward"])
        samples["ratio"].append(times["hostward"] / times["restic"])
    shutil.rmtree(target, ignore_errors=True)
    ratio = statistics.median(samples["ratio"])
    outside = statistics.median(samples["outside_s"])
    steady = (statistics.median(samples["restic_s"]) + outside) / statistics.median(samples["restic_s"])
    result = {
        "data_bytes": size, "agent_root": root, "median_ratio": ratio, "outside_restore_s": outside,
        "ratio_from_overhead": steady, "restic_runs": runs, "samples": samples,
    }  # fmt: skip
    (work / "result.json").write_text(json.dumps(result, indent=2))
    print(
        f"restore of {size / 1e6:.0f} MB: restic --verify median "
        f"{statistics.median(samples['restic_s']):.1f} s, "
        f"hostward median {statistics.median(samples['hostward_s']):.1f} s; median of per-round ratios "
        f"{ratio:.2f}x (goal {GOAL}x, limit {LIMIT}x); rounds {[round(r, 2) for r in samples['ratio']]}"
    )
    print(
        f"hostward outside restic restore: median {outside:.2f} s (restic runs: {runs[-1]}); "
        f"restic median + that: {steady:.2f}x"
    )
    return 0 if ratio <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
