"""`hostward run`'s arguments read without argparse (agent/commands/run_cmd.plain_args) mean what
argparse makes of them, and every other form is left to argparse."""

from __future__ import annotations

import pytest

from agent.commands import run_cmd
from agent.commands.parser import build_parser

READ = [
    [],
    ["--once"],
    ["-c", "/etc/hostward/hostward.yaml"],
    ["-c/etc/h.yaml"],
    ["--config", "h.yaml", "--once"],
    ["--once", "--config=h y.yaml"],
    ["--config="],
]
LEFT_TO_ARGPARSE = [
    ["-h"],
    ["--help"],
    ["-c"],
    ["-c", "--once"],
    ["--conf", "h.yaml"],
    ["-c", "a.yaml", "-c", "b.yaml"],
    ["--once", "--once"],
    ["h.yaml"],
    ["--onc"],
]


@pytest.mark.parametrize("rest", READ, ids=[" ".join(r) or "none" for r in READ])
def test_a_service_form_reads_as_argparse_reads_it(rest: list[str]) -> None:
    plain = run_cmd.plain_args(rest)
    parsed = build_parser(["run"]).parse_args(["run", *rest])
    assert plain is not None and (plain.config, plain.once) == (parsed.config, parsed.once)


@pytest.mark.parametrize("rest", LEFT_TO_ARGPARSE, ids=[" ".join(r) for r in LEFT_TO_ARGPARSE])
def test_any_other_form_is_left_to_argparse(rest: list[str]) -> None:
    assert run_cmd.plain_args(rest) is None
