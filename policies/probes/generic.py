"""The `conditions` probe: an officer's check written in YAML (policies/conditions.py).

Each leaf condition reads the system through collectors/system (files under the root, the
runner, the Windows readers) and answers held / not held with what it saw. `all`, `any` and
`none` combine them. A leaf that could not read raises (NoEvidence, SystemReadError): the
engine makes the check `error`, never `pass`, whatever the combination. A leaf that needs the
running system on an offline --root makes the check not_applicable.
"""

from __future__ import annotations

import re
import stat
import time
from collections.abc import Callable
from dataclasses import field
from typing import Any

from collectors.system import files
from collectors.system.evidence import NoEvidence
from collectors.system.files import SystemReadError
from common.errors import CommandError
from common.frozen import frozen
from policies.conditions import CommandCondition, Condition, FileCondition
from policies.context import ProbeContext
from policies.result import Finding, Msg, errored, failed, joined, msg, not_applicable, passed

MAX_COMMAND_OUTPUT = 1024 * 1024
SHOWN = 300  # characters of a matched line or output kept in the evidence


class Offline(Exception):
    """The condition needs the running system; the audit reads an offline root."""


@frozen
class Outcome:
    """How a condition (or a combination of them) came out: whether it held, what was seen, and its
    evidence and children."""

    held: bool
    seen: Msg  # what was observed, in both languages
    evidence: dict[str, Any] = field(default_factory=dict)
    children: tuple[Outcome, ...] = ()

    combinator: str = ""  # all, any or none; "" for a leaf

    def reasons(self, held: bool) -> list[Msg]:
        """The observations explaining why this outcome held (`held`) or failed."""
        if not self.combinator:
            return [self.seen]
        kids = self.children
        if self.combinator == "none":  # it holds by what did not hold, fails by what did
            if held:
                return [m for c in kids for m in c.reasons(False)]
            return [m for c in kids if c.held for m in c.reasons(True)]
        if (self.combinator == "all") == held:  # all held / any failed: every child explains it
            return [m for c in kids for m in c.reasons(held)]
        return [m for c in kids if c.held == held for m in c.reasons(held)]


Leaf = Callable[[ProbeContext, Any], Outcome]


def needs_live(ctx: ProbeContext) -> None:
    if not ctx.target.live:
        raise Offline()


def shown(text: str) -> str:
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"


def check_file(ctx: ProbeContext, c: FileCondition) -> Outcome:
    root = ctx.target.root
    st = files.stat_in(root, c.path)
    ev: dict[str, Any] = {"kind": "file", "path": c.path, "exists": st is not None}
    if not c.exists:
        if st is None:
            return Outcome(True, msg(f"{c.path} is absent", f"{c.path} 不存在"), ev)
        return Outcome(False, msg(f"{c.path} exists", f"{c.path} 存在"), ev)
    if st is None:
        return Outcome(False, msg(f"{c.path} does not exist", f"{c.path} 不存在"), ev)
    problems: list[Msg] = []
    if c.mode is not None or c.mode_max is not None or c.owner is not None:
        if ctx.target.platform == "windows":
            raise SystemReadError(c.path, "mode and owner are POSIX attributes; not judged on Windows")
        mode = stat.S_IMODE(st.st_mode)
        ev["mode"] = f"{mode:04o}"
        if c.mode is not None and mode != int(c.mode, 8):
            problems.append(
                msg(
                    f"{c.path} has mode {mode:04o}, not {c.mode}",
                    f"{c.path} 权限为 {mode:04o}，应为 {c.mode}",
                )
            )
        if c.mode_max is not None and mode & ~int(c.mode_max, 8):
            problems.append(
                msg(
                    f"{c.path} has mode {mode:04o}, beyond {c.mode_max}",
                    f"{c.path} 权限为 {mode:04o}，超出 {c.mode_max}",
                )
            )
        if c.owner is not None:
            uid = owner_uid(ctx, c.owner)
            ev["uid"] = st.st_uid
            if st.st_uid != uid:
                problems.append(
                    msg(
                        f"{c.path} is owned by UID {st.st_uid}, not {c.owner}",
                        f"{c.path} 属主 UID 为 {st.st_uid}，应为 {c.owner}",
                    )
                )
    if c.matches is not None or c.not_matches is not None:
        text = files.read_text(root, c.path)
        if text is None:
            raise NoEvidence(c.path, "vanished while being read", "读取时消失")
        if c.matches is not None:
            found = re.search(c.matches, text, re.MULTILINE)
            ev["matched"] = shown(found.group(0)) if found else None
            if found is None:
                problems.append(
                    msg(f"{c.path}: no line matches {c.matches!r}", f"{c.path}：没有一行匹配 {c.matches!r}")
                )
        if c.not_matches is not None:
            bad = re.search(c.not_matches, text, re.MULTILINE)
            ev["forbidden_match"] = shown(bad.group(0)) if bad else None
            if bad is not None:
                line = shown(bad.group(0))
                problems.append(msg(f"{c.path} contains {line!r}", f"{c.path} 含有 {line!r}"))
    if problems:
        return Outcome(False, joined(problems), ev)
    if ev.get("matched"):  # say what was found: a `none` fails by it
        found = ev["matched"]
        return Outcome(True, msg(f"{c.path} contains {found!r}", f"{c.path} 含有 {found!r}"), ev)
    return Outcome(True, msg(f"{c.path} is as required", f"{c.path} 符合要求"), ev)


def owner_uid(ctx: ProbeContext, owner: str) -> int:
    if owner.isdigit():
        return int(owner)
    passwd = ctx.read("passwd", lambda: files.read_text(ctx.target.root, "/etc/passwd")) or ""
    for line in passwd.splitlines():
        parts = line.split(":")
        if len(parts) > 2 and parts[0] == owner and parts[2].isdigit():
            return int(parts[2])
    raise NoEvidence(
        "/etc/passwd", f"no user {owner!r} to compare the owner with", f"没有用户 {owner!r}，无法比较属主"
    )


def check_command(ctx: ProbeContext, c: CommandCondition) -> Outcome:
    needs_live(ctx)
    shown_argv = " ".join(c.argv)
    timeout = max(0.1, min(float(c.timeout), ctx.deadline - time.monotonic()))
    try:
        result = ctx.runner.run(c.argv, timeout=timeout, max_output=MAX_COMMAND_OUTPUT)
    except CommandError as exc:
        raise NoEvidence(shown_argv, f"could not run: {exc}", f"无法运行：{exc}") from exc
    if result.timed_out:
        raise NoEvidence(shown_argv, f"no answer within {timeout:g} s", f"{timeout:g} 秒内没有结果")
    if result.truncated:
        raise NoEvidence(
            shown_argv, "output larger than 1 MiB; not judged on a part", "输出超过 1 MiB，不按部分判定"
        )
    out = result.stdout.decode("utf-8", "replace")
    ev: dict[str, Any] = {"kind": "command", "argv": list(c.argv), "exit_code": result.returncode}
    problems: list[Msg] = []
    if c.exit_code is not None and result.returncode != c.exit_code:
        problems.append(
            msg(
                f"{shown_argv} exited {result.returncode}, not {c.exit_code}",
                f"{shown_argv} 退出码为 {result.returncode}，应为 {c.exit_code}",
            )
        )
    if c.output_matches is not None:
        found = re.search(c.output_matches, out, re.MULTILINE)
        ev["matched"] = shown(found.group(0)) if found else None
        if found is None:
            problems.append(
                msg(
                    f"{shown_argv}: output does not match {c.output_matches!r}",
                    f"{shown_argv}：输出不匹配 {c.output_matches!r}",
                )
            )
    if c.output_not_matches is not None:
        bad = re.search(c.output_not_matches, out, re.MULTILINE)
        ev["forbidden_match"] = shown(bad.group(0)) if bad else None
        if bad is not None:
            problems.append(
                msg(
                    f"{shown_argv}: output contains {shown(bad.group(0))!r}",
                    f"{shown_argv}：输出含有 {shown(bad.group(0))!r}",
                )
            )
    if problems:
        return Outcome(False, joined(problems), ev)
    return Outcome(True, msg(f"{shown_argv} is as required", f"{shown_argv} 符合要求"), ev)


def evaluate(ctx: ProbeContext, cond: Condition) -> Outcome:
    from policies.probes.generic_system import LEAVES

    kind = cond.kind()
    if kind in ("all", "any", "none"):
        children = tuple(evaluate(ctx, c) for c in getattr(cond, kind))
        held = {
            "all": all(c.held for c in children),
            "any": any(c.held for c in children),
            "none": not any(c.held for c in children),
        }[kind]
        ev = {"kind": kind, "held": held, "of": [c.evidence for c in children]}
        return Outcome(held, msg(kind, kind), ev, children, kind)
    leaves: dict[str, Leaf] = {"file": check_file, "command": check_command, **LEAVES}
    outcome = leaves[kind](ctx, getattr(cond, kind))
    return Outcome(
        outcome.held, outcome.seen, {**outcome.evidence, "held": outcome.held, "seen": outcome.seen.en}
    )


def conditions(ctx: ProbeContext) -> Finding:
    if ctx.probe is None or not ctx.probe.conditions():
        return errored(msg("the check names no conditions", "检查没有列出任何条件"))
    try:
        outcomes = [evaluate(ctx, c) for c in ctx.probe.conditions()]
    except Offline:
        return not_applicable(
            msg("needs the running system; auditing an offline root", "需要运行中的系统；当前为离线审计"),
            root=ctx.target.root,
        )
    evidence = {"conditions": [o.evidence for o in outcomes]}
    problems = [m for o in outcomes if not o.held for m in o.reasons(False)]
    if problems:
        return failed(joined(problems), **evidence)
    leaves = sum(_count(o) for o in outcomes)
    return passed(msg(f"{leaves} condition(s) hold", f"{leaves} 个条件均满足"), **evidence)


def _count(outcome: Outcome) -> int:
    return sum(_count(c) for c in outcome.children) if outcome.children else 1
