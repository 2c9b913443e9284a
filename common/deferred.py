"""Standard modules the agent's processes import but almost never call, loaded at first use.

- `dataclasses` imports `inspect` (and with it ast, dis, tokenize and token: 0.7 MiB of a
  daemon's memory) only to write a signature into the docstring of a dataclass that has none.
  Every record, result and config class here has a docstring (ruff's D101, and the test).
- `subprocess` imports `locale` (0.5 MiB: its alias tables) only for a pipe in text mode
  without an encoding; the agent's pipes are bytes. argparse's gettext does call it, which is
  why the daemon reads `run`'s arguments without argparse (agent/cli.py).
- `logging` imports `traceback` (with linecache, tokenize and textwrap: 0.3 MiB) only to format
  an exception, which a healthy daemon logs rarely.
- `pathlib` imports `urllib.parse`, which imports `ipaddress` (0.4 MiB) for a URL with a
  bracketed host; the daemon checks addresses only while its config is read, in a child.

tests/foundation/test_deferred_imports.py holds them out of the daemon.

`defer` puts a stand-in module under the name. `import inspect` finds the stand-in (its
`__spec__` is the real one's); the first attribute read anywhere loads the real module, puts it
in `sys.modules` and answers from it. (`importlib.util.LazyLoader` cannot serve: on 3.11 the
next `import` statement reads `__spec__`, which loads the module at once.)
"""

from __future__ import annotations

import importlib.util
import sys
import types
from typing import Any

DEFERRED = ("inspect", "locale", "traceback", "ipaddress")


class _StandIn(types.ModuleType):
    """A module not loaded yet; `__getattr__` runs only for names it does not hold itself."""

    def __getattr__(self, attr: str) -> Any:
        return getattr(_load(self), attr)


def _load(stand_in: _StandIn) -> types.ModuleType:
    name = stand_in.__name__
    module = sys.modules.get(name)
    if module is None or module is stand_in:
        spec = stand_in.__spec__
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules[name] = stand_in
            raise
    return module


def defer(names: tuple[str, ...] = DEFERRED) -> None:
    """Stand in for each module of `names` not imported yet, until its first use."""
    for name in names:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            continue
        stand_in = _StandIn(name)
        stand_in.__spec__ = spec
        sys.modules[name] = stand_in
