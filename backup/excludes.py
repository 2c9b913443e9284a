"""Our own files are never backed up: repositories, the state directory, restic's cache, the
drill scratch directory and the offline media are excluded from every backup automatically.

Decision: exclude, not refuse. A source that holds a repository is a common, reasonable layout
(`sources: [/srv]` with the backup disk mounted at /srv/backup; `sources: [C:\\]`), and refusing
the config would leave such a host with no backup at all. Without the exclusion every run would
re-add the previous run's packs (the repository grows without bound, each night by the size
of everything before it). Each protected path becomes an exact restic `--exclude` pattern:
- anchored (absolute) and escaped, so `[`, `*`, `?` and `\\` in a path are literal (on Windows,
  where `\\` is the separator, through one-character classes such as `[*]`);
- in every spelling restic may meet while walking a source: the path as configured, its
  physical form (symlinks followed), and, when a source reaches it through a symlink, the
  path under the source as restic walks it.
Only paths inside a source are added (others cannot be met, and argv stays short).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import PurePath

_POSIX_SPECIAL = str.maketrans({c: "\\" + c for c in "\\*?["})
_WINDOWS_SPECIAL = str.maketrans({"*": "[*]", "?": "[?]", "[": "[[]"})


def exact_pattern(path: str, windows: bool | None = None) -> str:
    """`path` as a restic pattern that matches exactly that path."""
    windows = os.name == "nt" if windows is None else windows
    return path.translate(_WINDOWS_SPECIAL if windows else _POSIX_SPECIAL)


def _forms(path: str) -> set[str]:
    full = os.path.normpath(os.path.abspath(path))
    return {full, os.path.realpath(full)}


def _inside(path: str, top: str) -> str | None:
    """`path` relative to `top` ("." when equal), None when it is not inside."""
    p, t = PurePath(path), PurePath(top)
    if p == t:
        return "."
    return str(p.relative_to(t)) if t in p.parents else None


def protected_excludes(sources: Sequence[str], protected: Iterable[str]) -> tuple[str, ...]:
    """The exclude patterns that keep every `protected` path out of a backup of `sources`."""
    found: list[str] = []
    for item in protected:
        if not item:
            continue
        for form in _forms(item):
            for source in sources:
                lexical = os.path.normpath(os.path.abspath(source))
                for top in (lexical, os.path.realpath(lexical)):
                    rel = _inside(form, top)
                    if rel is None:
                        continue
                    for walked in (form, os.path.normpath(os.path.join(lexical, rel))):
                        pattern = exact_pattern(walked)
                        if pattern not in found:
                            found.append(pattern)
    return tuple(found)
