"""The house: a package imports only from its own floor or the floors below it.

floor 3 agent/; floor 2 policies/ and backup/ (beside each other, never each other); floor 1
collectors/; ground floor common/. Lazy imports inside functions count as much as those at the
top of a module, and only collectors/system/ may start a process.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("agent", "policies", "backup", "collectors", "common")
ALLOWED: dict[str, frozenset[str]] = {
    "agent": frozenset(PACKAGES),
    "policies": frozenset({"policies", "collectors", "common"}),
    "backup": frozenset({"backup", "collectors", "common"}),
    "collectors": frozenset({"collectors", "common"}),
    "common": frozenset({"common"}),
}


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted module) of every import in `path`, and of importlib.import_module("...")."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, "<relative import>"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def _top(module: str) -> str:
    return module.split(".")[0]


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_nothing_from_a_floor_above_it(package: str) -> None:
    modules = _modules(package)
    assert modules, f"{package}/ has no modules: the test would pass on nothing"
    wrong = [
        f"{path.relative_to(ROOT)}:{line}: imports {name}"
        for path in modules
        for line, name in _imports(path)
        if name == "<relative import>" or _top(name) in set(PACKAGES) - ALLOWED[package]
    ]
    assert wrong == []


def test_only_collectors_system_starts_processes() -> None:
    allowed = ROOT / "collectors" / "system"
    wrong = [
        f"{path.relative_to(ROOT)}:{line}: imports {name}"
        for package in PACKAGES
        for path in _modules(package)
        if allowed not in path.parents
        for line, name in _imports(path)
        if _top(name) in ("subprocess", "pty") or name == "asyncio.subprocess"
    ]
    assert wrong == []


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    """The test above can fail: a module importing agent/ from collectors/ is reported."""
    module = tmp_path / "bad.py"
    module.write_text("def f() -> None:\n    from agent.state import State\n", encoding="utf-8")
    assert [name for _, name in _imports(module)] == ["agent.state"]
