"""The agent process: state, logging, exporter, scheduler, signals.

- SIGTERM / SIGINT: stop scheduling, cancel running jobs, wait up to `SHUTDOWN_GRACE` seconds,
  record what is still running as abandoned, close the exporter; exit 0.
- SIGHUP, or a settled change of the config file (every platform; Windows has no SIGHUP;
  `agent.control`): reload the config. An invalid file is logged problem by problem and the
  running config stays; a valid one replaces logging, the job schedules and the exporter.
- Windows: Ctrl+C / Ctrl+Break in the console; everywhere: the `stop-request` file in the state
  directory (`hostward stop`), or the `stop` event set by the Windows service's SvcStop.
- `--once` (`run_once`): every due job once, no exporter; 0 if all succeeded, else 1.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, Protocol, TextIO

from agent import __version__, faults
from agent.config import LoadedConfig, SchemaError
from agent.config.apart import load_apart
from agent.control import ConfigWatch, clear_stop, stop_path, stop_requested
from agent.jobs import JobSpec, scheduled
from agent.journal import Journal
from agent.logs import setup_logging
from agent.scheduler import Scheduler
from agent.secret_files import register_config_secrets
from agent.state import State
from agent.watchdog import apply_own_limits
from collectors.system import heap
from common.errors import HostwardError

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 5.0  # seconds running jobs get to notice their cancel event at shutdown
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class TrapsHandle(Protocol):
    """A running trap receiver, as the daemon stops it."""

    def close(self, timeout: float = ...) -> None: ...


class ExporterHandle(Protocol):
    """A running exporter, as the daemon shows and stops it."""

    @property
    def url(self) -> str: ...

    def close(self) -> None: ...


def open_state(loaded: LoadedConfig) -> State:
    return State.open(loaded.state_dir, loaded.config.history.job_runs_per_job)


# agent.actions.enforce.UNDO_FILE (tests/foundation/test_workers.py checks they agree): looked
# for here so that the daemon loads the enforcement code only when there is something to recover.
UNDO_FILE = "enforce-undo.json"


def recover(loaded: LoadedConfig) -> None:
    """An enforcement interrupted by a crash is rolled back before any job runs."""
    if not (loaded.state_dir / UNDO_FILE).exists():  # FileNotFoundError is "nothing pending" there too
        return
    from agent.actions.enforce import recover_enforcement

    try:
        recover_enforcement(loaded.state_dir)
    except HostwardError as exc:
        log.error("cannot recover an interrupted enforcement: %s", exc)


def run_once(loaded: LoadedConfig, specs: Sequence[JobSpec], out: TextIO = sys.stdout) -> int:
    """Run every due job once (no exporter) and print one line per job."""
    heap.one_arena()
    setup_logging(loaded.config.log)
    register_config_secrets(loaded.config)
    apply_own_limits(loaded.config.limits)
    try:
        state = open_state(loaded)
    except HostwardError as exc:
        print(f"hostward: {exc}", file=sys.stderr)
        return EXIT_USAGE
    recover(loaded)
    scheduler = Scheduler(
        scheduled(specs, loaded.config), config=loaded.config, state=state, state_dir=loaded.state_dir
    )
    results = scheduler.run_due_once()
    for result in results:
        verdict = "ok" if result.success else f"failed: {result.error}"
        print(f"{result.job}: {verdict} ({result.duration:.2f}s)", file=out, flush=True)
    # The state is not closed: a run past its timeout may still be writing from its thread.
    return EXIT_OK if all(r.success for r in results) else EXIT_FAILED


def serve(
    loaded: LoadedConfig,
    config_arg: str | None,
    specs: Callable[[], Sequence[JobSpec]],
    out: TextIO = sys.stdout,
    stop: threading.Event | None = None,
) -> int:
    """Run the agent until SIGTERM/SIGINT, a stop request or `stop` is set. Returns the exit code."""
    return Daemon(loaded, config_arg, specs, out, stop).serve()


class Daemon:
    """The long-running agent: its state, exporter, trap receiver and scheduler, the config reloads
    and the shutdown on a signal or a stop request."""

    def __init__(
        self,
        loaded: LoadedConfig,
        config_arg: str | None,
        specs: Callable[[], Sequence[JobSpec]],
        out: TextIO,
        stop: threading.Event | None = None,
    ) -> None:
        self.loaded = loaded
        self._config_arg = config_arg
        self._specs = specs
        self._out = out
        self.stop = stop or threading.Event()
        self._stopped_by = "signal"
        self._reload = threading.Event()
        source = None if loaded.source.startswith("<") else Path(loaded.source)
        self._watch = ConfigWatch(source)
        self._exporter: ExporterHandle | None = None
        self._journal = Journal(loaded.state_dir)
        self._traps: TrapsHandle | None = None

    def serve(self) -> int:
        # First: SIGHUP's default action would kill an agent reloaded right after its start.
        self._install_signals()
        heap.one_arena()
        faults.include(self.loaded.state_dir)  # /metrics: this process's faults and the CLI's
        setup_logging(self.loaded.config.log)
        register_config_secrets(self.loaded.config)
        apply_own_limits(self.loaded.config.limits)
        try:
            state = open_state(self.loaded)
        except HostwardError as exc:
            print(f"hostward: {exc}", file=sys.stderr)
            return EXIT_USAGE
        try:
            self._exporter = self._start_exporter(self.loaded, state)
        except HostwardError as exc:
            print(f"hostward: cannot start the exporter: {exc}", file=sys.stderr)
            state.close()
            return EXIT_USAGE
        if clear_stop(self.loaded.state_dir):
            log.warning("removed a stop request left from before this start")
        self._print_banner()
        self._note("agent.start", {"version": __version__, "config": self.loaded.source})
        recover(self.loaded)
        scheduler = Scheduler(
            scheduled(self._specs(), self.loaded.config),
            config=self.loaded.config,
            state=state,
            state_dir=self.loaded.state_dir,
        )
        from agent import usb_listener

        usb = usb_listener.start(self.loaded.config.access_log.usb_listener, state, self.loaded.state_dir)
        self._start_traps(self.loaded, state, scheduler)
        try:
            scheduler.run(self.stop, between=lambda: self._between(scheduler, state))
        finally:
            if usb is not None:
                usb.stop()
            log.info("stopping: waiting up to %.0fs for running jobs", SHUTDOWN_GRACE)
            if self._traps is not None:
                self._traps.close()
            scheduler.shutdown(SHUTDOWN_GRACE)
            if self._exporter is not None:
                self._exporter.close()
            self._note("agent.stop", {"version": __version__, "by": self._stopped_by})
            state.close()
            clear_stop(self.loaded.state_dir)
        return EXIT_OK

    def _between(self, scheduler: Scheduler, state: State) -> None:
        """Before every tick: a stop request, a changed config file, a pending reload."""
        if stop_requested(self.loaded.state_dir):
            log.info("stop requested (%s)", stop_path(self.loaded.state_dir))
            self._stopped_by = "stop request"
            self.stop.set()
            return
        if self._watch.changed():
            log.info("the config file changed: reloading it")
            self._reload.set()
        self._maybe_reload(scheduler, state)

    def _start_exporter(self, loaded: LoadedConfig, state: State) -> ExporterHandle | None:
        if not loaded.config.exporter.enabled:
            return None
        # Imported here: `--once` and the CLI commands never load the HTTP server.
        from agent.exporter.server import start_exporter

        handle: ExporterHandle = start_exporter(loaded, state)
        return handle

    def _print_banner(self) -> None:
        if self._exporter is None:
            where = "status page and metrics disabled (exporter.enabled: false)"
        else:
            url = self._exporter.url
            where = f"status page {url}  metrics {url.rstrip('/')}/metrics"
        print(
            f"hostward {__version__}: {where}  state {self.loaded.state_dir}  config {self.loaded.source}",
            file=self._out,
            flush=True,
        )

    def _install_signals(self) -> None:
        """SIGTERM/SIGINT (Ctrl+C), SIGBREAK (Ctrl+Break, Windows) stop; SIGHUP reloads. Only the
        main thread may install handlers: the Windows service runs the agent in another thread
        and stops it through `self.stop`."""

        def on_stop(signum: int, frame: FrameType | None) -> None:
            self.stop.set()

        def on_reload(signum: int, frame: FrameType | None) -> None:
            self._reload.set()

        try:
            signal.signal(signal.SIGTERM, on_stop)
        except ValueError:  # not the interpreter's main thread (pythonservice.exe's service thread)
            self._stopped_by = "service"
            return
        signal.signal(signal.SIGINT, on_stop)
        for name, handler in (("SIGBREAK", on_stop), ("SIGHUP", on_reload)):  # Windows / POSIX only
            number = getattr(signal, name, None)
            if number is not None:
                signal.signal(number, handler)

    def _maybe_reload(self, scheduler: Scheduler, state: State) -> None:
        if not self._reload.is_set():
            return
        self._reload.clear()
        self._watch.mark_loaded()
        old = self.loaded
        try:
            new = load_apart(self._config_arg)
        except SchemaError as exc:
            log.error("reload refused: the config is invalid; keeping the running one")
            for problem in exc.problems:
                log.error("%s", problem)
            return
        if new.state_dir != old.state_dir:
            log.warning("state_dir changed to %s: restart the agent to use it", new.state_dir)
            new = dataclasses.replace(new, state_dir=old.state_dir)
        if new.config != old.config and not self._restart_exporter(old, new, state):
            return
        setup_logging(new.config.log)
        register_config_secrets(new.config)
        scheduler.update(scheduled(self._specs(), new.config), new.config)
        if (new.config.devices, new.config.devices_traps) != (old.config.devices, old.config.devices_traps):
            self._start_traps(new, state, scheduler)
        self.loaded = new
        log.info("reloaded the config from %s", new.source)
        self._note("agent.reload", {"config": new.source})

    def _restart_exporter(self, old: LoadedConfig, new: LoadedConfig, state: State) -> bool:
        """Serve with `new`; on failure go back to `old` and return False."""
        if self._exporter is not None:
            self._exporter.close()
            self._exporter = None
        try:
            self._exporter = self._start_exporter(new, state)
        except HostwardError as exc:
            log.error("reload refused: cannot start the exporter with the new config: %s", exc)
            try:
                self._exporter = self._start_exporter(old, state)
            except HostwardError as again:
                log.error("the exporter is down: cannot restart it with the old config: %s", again)
            return False
        if self._exporter is not None:
            log.info("exporter serving at %s", self._exporter.url)
        return True

    def _start_traps(self, loaded: LoadedConfig, state: State, scheduler: Scheduler) -> None:
        """(Re)start the SNMP trap receiver (two idle threads) when `devices_traps.listen` is set."""
        if self._traps is not None:
            self._traps.close()
            self._traps = None
        if loaded.config.devices_traps.listen:  # imported only then
            from agent.traps.receiver import start_receiver

            self._traps = start_receiver(loaded.config, state, loaded.state_dir, scheduler.run_now)

    def _note(self, kind: str, data: dict[str, Any]) -> None:
        """Journal the agent's own life (ROOM-4). A journal problem never stops the agent."""
        try:
            self._journal.append(kind, data)
        except HostwardError as exc:
            log.error("cannot write the journal: %s", exc)
