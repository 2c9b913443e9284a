"""`hostward report daily|fleet`: printable HTML reports.

`report daily [--date D] [--out FILE] [--lang zh|en]`: this host's inspection record (ROOM-3).
Today's is rendered from the state; an earlier day's comes from the archive the `report_daily`
job keeps. `report fleet --prometheus URL [--at TIME] --out FILE [--lang zh|en]`: compliance
by rule and by host at a point in time, from Prometheus.

Exit 0 written, 1 failed (Prometheus unreachable or refused, no archived record, cannot
write), 2 bad arguments or config.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import date
from pathlib import Path

from agent.commands import common
from common.errors import HostwardError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("report", help="printable HTML reports / 打印报告")
    sub = p.add_subparsers(dest="report", metavar="REPORT", required=True)

    daily = sub.add_parser("daily", help="this host's daily inspection record (ROOM-3) / 每日巡检记录")
    common.add_config_option(daily)
    daily.add_argument("--date", metavar="YYYY-MM-DD", help="the day (default: today); earlier days "
                       "come from <state_dir>/reports")  # fmt: skip
    daily.add_argument("--out", metavar="FILE", help="write here (default: the archive in the state dir)")
    daily.add_argument("--lang", choices=("zh", "en"), help="language (default: report.daily.lang)")
    daily.set_defaults(func=run_daily)

    fleet = sub.add_parser("fleet", help="fleet compliance at a point in time, from Prometheus / 全网合规")
    common.add_config_option(fleet)
    fleet.add_argument("--prometheus", required=True, metavar="URL", help="e.g. http://prometheus:9090")
    fleet.add_argument("--at", metavar="TIME", help="RFC 3339 or Unix seconds (default: now)")
    fleet.add_argument("--out", required=True, metavar="FILE", help="the HTML file to write")
    fleet.add_argument("--lang", choices=("zh", "en"), default="zh", help="language (default: zh)")
    fleet.add_argument("--job", default="hostward", help="the scrape job of the agents (default: hostward)")
    fleet.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS", help="per request")
    fleet.add_argument("--basic-auth-user", metavar="USER", help="user for Prometheus' basic auth")
    fleet.add_argument(
        "--basic-auth-password-file", metavar="FILE", help="file holding that user's password (mode 0600)"
    )
    fleet.add_argument("--ca-file", metavar="FILE", help="CA certificate(s) to trust for https")
    fleet.set_defaults(func=run_fleet)


def _fail(message: str, code: int = common.EXIT_FAILED) -> int:
    print(f"hostward report: {message}", file=sys.stderr)
    return code


def run_daily(args: argparse.Namespace) -> int:
    from agent.actions.report_daily import render_for
    from agent.report.daily_html import archive_path, write_archive

    loaded = common.load(args)
    today = date.today()
    try:
        day = date.fromisoformat(args.date) if args.date else today
    except ValueError:
        return _fail(f"not a date: {args.date!r} (YYYY-MM-DD)", common.EXIT_USAGE)
    if day > today:
        return _fail(f"{day} has not happened yet", common.EXIT_USAGE)
    try:
        if day < today:
            archived = archive_path(loaded.state_dir, day)
            if not archived.is_file():
                return _fail(f"no inspection record was archived for {day} (looked for {archived})")
            if args.out:
                shutil.copyfile(archived, args.out)
            print(args.out or archived)
            return common.EXIT_OK
        state = common.open_state(loaded)
        try:
            html = render_for(loaded.config, state, day, args.lang)
        finally:
            state.close()
        if args.out:
            Path(args.out).write_text(html, encoding="utf-8")
            print(args.out)
        else:
            print(write_archive(loaded.state_dir, day, html))
    except (OSError, HostwardError) as exc:
        return _fail(str(exc))
    return common.EXIT_OK


def run_fleet(args: argparse.Namespace) -> int:
    from agent.report.fleet import check_job, gather
    from agent.report.fleet_html import render_fleet
    from agent.report.prometheus import PrometheusClient, PrometheusError, parse_time
    from common.secrets import read_secret
    from policies.library import load_library

    loaded = common.load(args)
    try:
        at = parse_time(args.at) if args.at else time.time()
        check_job(args.job)
        if bool(args.basic_auth_user) != bool(args.basic_auth_password_file):
            raise ValueError("give both --basic-auth-user and --basic-auth-password-file, or neither")
        if args.timeout <= 0:
            raise ValueError("--timeout must be positive")
    except ValueError as exc:
        return _fail(str(exc), common.EXIT_USAGE)
    try:
        auth = None
        if args.basic_auth_user:
            auth = (args.basic_auth_user, read_secret(args.basic_auth_password_file, "Prometheus password"))
        client = PrometheusClient(args.prometheus, args.timeout, auth, args.ca_file)
    except ValueError as exc:
        return _fail(str(exc), common.EXIT_USAGE)
    except (HostwardError, OSError) as exc:
        return _fail(str(exc))
    try:
        report = gather(client, at, args.job)
    except PrometheusError as exc:
        return _fail(str(exc))
    library, _ = load_library(loaded.config.audit.policy_dirs)
    try:
        Path(args.out).write_text(render_fleet(report, library, args.lang), encoding="utf-8")
    except OSError as exc:
        return _fail(f"cannot write {args.out}: {exc.strerror or exc}")
    counts = {s: len(report.hosts_in(s)) for s in ("compliant", "non_compliant", "errors", "no_data")}
    print(
        f"{args.out}: {len(report.hosts)} hosts; compliant {counts['compliant']}, non-compliant "
        f"{counts['non_compliant']}, could not determine {counts['errors']}, no data {counts['no_data']}"
    )
    return common.EXIT_OK
