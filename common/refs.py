"""Code named by a string, "package.module:function", imported when it is wanted: a job's action
(agent/jobs.py, run by a worker process) or a CLI command's handler (agent/commands/backup_cmd.py),
so that nothing loads the code of a job or command that does not run."""

from __future__ import annotations

import importlib
from typing import Any


def resolve(reference: str) -> Any:
    """'package.module:function' -> the function (imports the module)."""
    module, _, attr = reference.partition(":")
    return getattr(importlib.import_module(module), attr)
