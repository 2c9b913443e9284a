"""common/deferred.py: `inspect` (0.7 MiB with ast, dis and tokenize) stays a stand-in in every
agent process, because no class of the agent makes `dataclasses` call it; a deferred module
still works in full for whoever does use it."""

from __future__ import annotations

import site
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str) -> list[str]:
    """`code` run as an installed agent runs: the tree and the libraries on the path, without
    site's start-up hooks (an editable install's import hook loads pathlib, and ipaddress with
    it, before the agent's first line)."""
    head = f"import sys; sys.path[1:1] = {site.getsitepackages()!r}\n"
    done = subprocess.run(
        [sys.executable, "-S", "-c", head + textwrap.dedent(code)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_no_module_of_the_agent_loads_inspect() -> None:
    """Every module of the five packages imported (those of the other platform are left out by
    their ImportError); a dataclass without a docstring anywhere would load `inspect`. The
    modules are listed from the directories, not with pkgutil: its walk itself calls
    `inspect.getmodulename`."""
    out = _python(
        """
        import importlib, sys
        from pathlib import Path
        import agent

        def modules(directory, prefix):
            for path in sorted(directory.iterdir()):
                if path.is_dir() and (path / "__init__.py").is_file():
                    yield prefix + path.name
                    yield from modules(path, prefix + path.name + ".")
                elif path.suffix == ".py" and path.stem not in ("__init__", "__main__"):
                    yield prefix + path.stem

        imported = 0
        for package in ("common", "collectors", "policies", "backup", "agent"):
            for name in modules(Path(package), package + "."):
                try:
                    importlib.import_module(name)
                except ImportError:
                    continue
                imported += 1
                if "ast" in sys.modules:
                    print("loaded-by", name)
                    raise SystemExit(0)
        print(imported, type(sys.modules["inspect"]).__name__)
        """
    )
    assert out[0] != "loaded-by", f"{out[1]} loads inspect: give its dataclasses a docstring"
    assert int(out[0]) > 250 and out[1] == "_StandIn"


def test_a_deferred_module_loads_at_first_use_and_then_is_the_real_one() -> None:
    out = _python(
        """
        import sys
        from common.deferred import defer
        defer(("inspect", "no_such_module_here"))
        import inspect
        missing = "no_such_module_here" in sys.modules
        print("ast" in sys.modules, type(sys.modules["inspect"]).__name__, missing)
        from inspect import signature
        print(str(signature(lambda x, y=2: 0)), "ast" in sys.modules, sys.modules["inspect"] is not inspect)
        print(inspect.isfunction(signature), type(sys.modules["inspect"]).__name__)
        """
    )
    assert out == ["False", "_StandIn", "False", "(x,", "y=2)", "True", "True", "True", "module"]


def test_the_daemon_loads_none_of_the_modules_it_never_calls(tmp_path: Path) -> None:
    """What `hostward run -c FILE` imports before its first job: its arguments read without
    argparse (which loads gettext and, through it, locale), the config read in a child (no
    PyYAML, no schema reader), no gzip (zlib compresses /metrics), no platform, and `inspect`,
    `locale`, `traceback` and `ipaddress` only stand-ins."""
    config = tmp_path / "hostward.yaml"
    config.write_text(f"version: 1\nstate_dir: {tmp_path / 'state'}\n")
    never = {
        "argparse", "gettext", "shutil", "bz2", "lzma", "difflib", "gzip", "platform", "ast",
        "yaml", "common.schema.loader", "tokenize", "textwrap",
    }  # fmt: skip
    out = _python(
        f"""
        import sys
        from agent.commands import common, run_cmd
        args = run_cmd.plain_args(["-c", {str(config)!r}])
        loaded = common.load(args, apart=True)
        from agent import daemon, jobs
        from agent.exporter import routes, server
        print(loaded.state_dir.name, *sorted({never!r} & set(sys.modules)))
        print(*(type(sys.modules[name]).__name__ for name in ("inspect", "locale", "traceback", "ipaddress")))
        """
    )
    assert out == ["state", "_StandIn", "_StandIn", "_StandIn", "_StandIn"]
