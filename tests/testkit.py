"""Helpers every test area shares (importable everywhere: pytest puts tests/ on sys.path)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `check` until it returns something truthy (OSError counts as not yet)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except OSError as exc:
            last = exc
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}: last saw {last!r}")


ROOT = Path(__file__).resolve().parents[1]
HOSTWARD = Path(sys.executable).parent / "hostward"  # the console script of the venv under test


def agent_env(extra: Mapping[str, str] | None = None, path_first: Path | None = None) -> dict[str, str]:
    """The test's environment without HOSTWARD_* variables, unbuffered output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOSTWARD_")}
    env["PYTHONUNBUFFERED"] = "1"
    if path_first is not None:
        env["PATH"] = f"{path_first}:{env.get('PATH', '/usr/bin:/bin')}"
    env.update(extra or {})
    return env


class AgentProcess:
    """A real `hostward run` (or a script around `agent.cli.main`) in the background."""

    def __init__(
        self,
        workdir: Path,
        config: Path,
        *,
        script: str | None = None,
        env: Mapping[str, str] | None = None,
        prefix: tuple[str, ...] = (),
    ) -> None:
        self.config = config
        self.out_path = workdir / f"agent-{id(self)}.out"
        self.err_path = workdir / f"agent-{id(self)}.err"
        argv: tuple[str, ...]
        if script is None:
            argv = (*prefix, str(HOSTWARD), "run", "-c", str(config))
        else:
            argv = (*prefix, sys.executable, "-c", script, "run", "-c", str(config))
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=err, env=dict(env or agent_env()), cwd=ROOT)

    @property
    def stdout(self) -> str:
        return self.out_path.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, predicate: Callable[[], object], timeout: float = 30, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"agent exited {self.proc.returncode} waiting for {what}\n{self.stdout}\n{self.stderr}"
                )
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}\n{self.stdout}\n{self.stderr[-4000:]}")

    def banner(self) -> str:
        self.wait_for(lambda: self.stdout.strip(), what="the start banner")
        return self.stdout.splitlines()[0]

    def url(self) -> str:
        self.wait_for(lambda: "status page http" in self.stdout, what="the start banner")
        return self.banner().split("status page ", 1)[1].split()[0].rstrip("/")

    def stop(self, graceful: bool = True) -> int:
        """SIGTERM (then SIGKILL after 10 s), or SIGKILL at once; the exit code."""
        if self.proc.poll() is None:
            if not graceful:
                self.proc.kill()
                return self.proc.wait(10)
            self.proc.terminate()
            try:
                return self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait(10)


SSHD = "/usr/sbin/sshd"


def start_sshd(config: Path, log: Path, poll: float = 0.05) -> subprocess.Popen[bytes]:
    """Start OpenSSH's server in the foreground with `config`, logging to `log`; return once it
    sends its banner. Raises RuntimeError if it exits or stays silent for 10 s."""
    proc = subprocess.Popen(
        [SSHD, "-D", "-f", str(config), "-E", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port = next(int(line.split()[1]) for line in config.read_text().splitlines() if line.startswith("Port "))
    end = time.monotonic() + 10
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                if s.recv(4).startswith(b"SSH-"):
                    return proc
        except OSError:
            time.sleep(poll)
    proc.terminate()
    raise RuntimeError("sshd did not start")


def put_json(state: Any, kind: str, payload: Mapping[str, Any], taken: float | None = None) -> None:
    """Store a hand-written JSON payload as the typed record of `kind` (it must read as that type)."""
    from agent.records.kinds import KINDS

    state.put_record(KINDS[kind].from_json(payload), taken=taken)


def put_raw(state: Any, kind: str, payload: Any, taken: float = 1.0) -> None:
    """Store a payload as it is, bypassing the typed records (a damaged or foreign record)."""
    import json
    import sqlite3

    db = sqlite3.connect(state.path)
    with db:
        db.execute("INSERT OR REPLACE INTO records VALUES (?, ?, ?)", (kind, taken, json.dumps(payload)))
    db.close()
