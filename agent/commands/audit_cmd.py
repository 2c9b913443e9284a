"""`hostward audit [--role R] [--root DIR] [--json] [--html FILE] [--lang zh|en] [-c FILE]`.

Exit 0 when everything passes or does not apply (waived failures included), 1 when any check
fails, 2 when a check could not be determined and none failed (or the config is invalid).
"""

from __future__ import annotations

import argparse
import sys
import unicodedata

from agent import console
from agent.actions.audit import accept_network_baseline, perform_audit, record_audit, store_for
from agent.commands import common
from agent.config import LoadedConfig
from agent.logs import escape_controls
from agent.state import State, StateError
from agent.web.audit_report import STATUS_TEXT, render_report
from policies.library import Library, PolicyStore
from policies.result import CheckResult, exit_code
from policies.schema import ROLES


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("audit", help="check the written rules, with evidence / 合规审计")
    common.add_config_option(p)
    p.add_argument("--role", choices=ROLES, help="audit as this role (default: host.role)")
    p.add_argument(
        "--root",
        default="/",
        metavar="DIR",
        help="audit a mounted disk or image offline (live-only checks become n/a)",
    )
    p.add_argument("--json", action="store_true", help='print {"host": ..., "results": [...]}')
    p.add_argument("--html", metavar="FILE", help="write the HTML evidence report to FILE")
    p.add_argument(
        "--lang",
        choices=("zh", "en"),
        help="language of the table and report (default: zh, or en where the console has no Chinese)",
    )
    p.add_argument("--check", action="append", metavar="ID", help="only this check (repeatable)")
    p.add_argument(
        "--validate-policies",
        nargs="*",
        metavar="PATH",
        help="only validate the library, audit.policy_dirs and these policy files/dirs (for CI); "
        "exit 0 valid, 2 invalid",
    )
    p.add_argument(
        "--accept-network-baseline",
        action="store_true",
        help="after an approved change: register the current IP/MAC/gateway/DNS as the NET-5 baseline",
    )
    p.set_defaults(func=run)


def _open_state(loaded: LoadedConfig) -> State | None:
    try:
        return common.open_state(loaded)
    except (StateError, OSError):
        return None  # a read-only user can still audit; nothing is remembered


def run(args: argparse.Namespace) -> int:
    loaded = common.load(args)
    args.lang = args.lang or console.default_lang()
    if args.validate_policies is not None:
        return validate(loaded.config.audit.policy_dirs + tuple(args.validate_policies))
    state = _open_state(loaded) if args.root in ("/", "") else None
    try:
        if args.accept_network_baseline:
            if state is None:
                print("cannot open the state directory / 无法打开状态目录", file=sys.stderr)
                return common.EXIT_FAILED
            accepted = accept_network_baseline(loaded.config, state, loaded.state_dir)
            print(console.dumps(accepted, indent=2))
            return common.EXIT_OK
        outcome = perform_audit(loaded.config, state, role=args.role, root=args.root, only=args.check)
        whole = args.check is None and outcome.report.host["role"] == loaded.config.host.role
        if state is not None and whole:  # a partial or other-role audit never replaces the record
            record_audit(state, loaded.state_dir, outcome)
    finally:
        if state is not None:
            state.close()
    for problem in outcome.problems:
        print(f"policy file rejected / 策略文件无效: {escape_controls(str(problem))}", file=sys.stderr)
    results = outcome.report.results
    if args.json:
        print(console.dumps(outcome.report.to_json(), indent=2))
    library, _ = store_for(loaded.config.audit.policy_dirs).load()
    if not args.json:
        print(format_table(results, args.lang))
        print(format_failing_rules(results, library, args.lang), end="")
    if args.html:
        html = render_report(outcome.report.host, results, library, args.lang)
        with open(args.html, "w", encoding="utf-8") as fh:
            fh.write(html)
    for wanted, near in outcome.unknown_checks.items():
        hint = f"; did you mean / 是否指: {', '.join(near)}" if near else ""
        print(f"unknown check / 未知检查项: {escape_controls(wanted)}{hint}", file=sys.stderr)
    if outcome.unknown_checks:
        return common.EXIT_USAGE  # a mistyped id is never "all pass"
    return exit_code(results)


def format_table(results: list[CheckResult], lang: str) -> str:
    header = (
        ("结果", "检查项", "规则", "级别", "原因")
        if lang == "zh"
        else ("Result", "Check", "Rules", "Severity", "Reason")
    )
    rows = []
    for r in results:
        zh, en = STATUS_TEXT[r.status]
        status = zh if lang == "zh" else en
        if r.waived:
            status += "（豁免）" if lang == "zh" else " (waived)"
        # Reasons quote what the host holds (process, package, file names): no raw control
        # character reaches the terminal.
        rows.append((status, r.check, ",".join(r.rules), r.severity, escape_controls(r.reason_in(lang))))
    widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(4)]
    lines = [
        "  ".join(c + " " * (w - _width(c)) for c, w in zip(row[:4], widths, strict=True)) + "  " + row[4]
        for row in [header, *rows]
    ]
    return "\n".join(lines)


def format_failing_rules(results: list[CheckResult], library: Library, lang: str) -> str:
    """The clause of each rule a failing check proves (waived ones too), in `lang`, so the
    table says which written rule is broken without the HTML report. "" when none fails."""
    failing: dict[str, list[str]] = {}
    for r in results:
        if r.status == "fail":
            for rule in r.rules:
                failing.setdefault(rule, []).append(r.check)
    if not failing:
        return ""
    order = {rid: i for i, rid in enumerate(library.rules)}
    lines = ["", "未满足的条款：" if lang == "zh" else "Rules not met:"]
    for rule in sorted(failing, key=lambda rid: (order.get(rid, len(order)), rid)):
        spec = library.rules.get(rule)
        clause = (spec.clause.zh if lang == "zh" else spec.clause.en) if spec else "—"
        lines.append(f"  {rule}  {escape_controls(clause)}  ({', '.join(failing[rule])})")
    return "\n".join(lines) + "\n"


def _width(text: str) -> int:
    """Terminal columns: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def validate(paths: tuple[str, ...]) -> int:
    library, problems = PolicyStore(paths).load()
    for problem in problems:
        print(escape_controls(str(problem)), file=sys.stderr)
    if problems:
        return common.EXIT_USAGE
    print(f"{len(library.checks)} checks, {len(library.rules)} rules: valid / 策略文件有效")
    return common.EXIT_OK
