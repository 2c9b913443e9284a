"""The daemon reads its config file in a child process.

PyYAML and the schema reader (1.2 MiB, a sixth of what the daemon may hold beyond
node_exporter's size) are needed only while a file is read: at start and at each reload. So the
daemon starts `python -m agent.config.apart FILE`, which loads and validates the file as every
other command does (`load_config`) and writes the LoadedConfig, or the SchemaError with every
located problem, pickled on its stdout. The daemon holds only the validated dataclasses. The
embedded default is built in-process: it reads no file.

A child that cannot run, fails or is silent is a SchemaError naming the file: the daemon refuses
to start, or keeps its running config on a reload, exactly as for an invalid file. The child
sees none of the daemon's other environment variables (secrets among them).
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from agent.config import LoadedConfig, load_config, resolve_path
from collectors.system.runner import SubprocessRunner
from common.errors import CommandError
from common.schema import Problem, SchemaError

TIMEOUT = 120.0  # seconds: a 1 MiB file of 200 devices is read in well under one
CHILD = "agent.config.apart"
# What the child may see of the environment: what Python needs to start, and what load_config
# reads (the state directory's default). Nothing else: the file names which variables hold
# secrets, and it is not read yet.
_ENVIRONMENT = (
    "PATH", "HOME", "TMPDIR", "XDG_STATE_HOME", "LANG", "LC_ALL", "PYTHONPATH", "PYTHONIOENCODING",
    "SYSTEMROOT", "WINDIR", "USERPROFILE", "PROGRAMDATA", "TEMP", "TMP", "APPDATA", "LOCALAPPDATA",
)  # fmt: skip


def load_apart(explicit: str | None) -> LoadedConfig:
    """`load_config(explicit)`, the file read and validated in a child process."""
    path = resolve_path(explicit)
    if path is None:
        return load_config(None)
    from agent.workers.runner import child_environment, python_executable

    env = {k: v for k, v in child_environment(set()).items() if k in _ENVIRONMENT}
    runner = SubprocessRunner(base_env=env)
    try:
        done = runner.run([python_executable(), "-m", CHILD, str(path)], timeout=TIMEOUT)
    except (CommandError, OSError) as exc:
        raise _unchecked(path, str(exc)) from exc
    if not done.ok or done.truncated or not done.stdout:
        why = done.stderr_tail().splitlines()[-1:] or ["no output"]
        ended = f"no answer in {TIMEOUT:.0f} s" if done.timed_out else f"exit code {done.returncode}"
        raise _unchecked(path, f"{ended}: {why[0]}")
    result = pickle.loads(done.stdout)  # noqa: S301 - our own child, started just now
    if isinstance(result, SchemaError):
        raise result
    if not isinstance(result, LoadedConfig):
        raise _unchecked(path, f"it answered {type(result).__name__}")
    return result


def _unchecked(path: Path, why: str) -> SchemaError:
    return SchemaError([Problem(str(path), 0, "", f"the config could not be checked: {why}")])


def main(argv: list[str]) -> int:
    """The child: `python -m agent.config.apart FILE`."""
    result: LoadedConfig | SchemaError
    try:
        result = load_config(argv[0])
    except SchemaError as exc:
        result = exc
    sys.stdout.buffer.write(pickle.dumps(result))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
