"""`hostward access-log [--since WHEN] [--user NAME] [--json] [-c FILE]`: the access-log archive
(ROOM-6): logins, logouts, failed logins, privilege use and USB storage, oldest first.

`--since` takes a duration back from now (`30m`, `12h`, `7d`) or a date/time (`2026-12-01`,
`2026-12-01T08:00`, local time); default: the last 24 hours. `--user` matches the user name
exactly (case-insensitive; on Windows with or without the `DOMAIN\\` part). Reading only: it
works next to a running daemon. A torn segment tail or unreadable line is reported on stderr
with a count, never silently skipped. Text is escaped (a log line may hold control characters).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import unicodedata
from datetime import datetime

from agent import console
from agent.access.archive import Archive, ReadStats
from agent.commands import common
from agent.logs import escape_controls
from collectors.access import AccessEvent

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
KIND_LABELS = {
    "login": ("登录", "login"), "logout": ("注销", "logout"), "failed_login": ("登录失败", "failed login"),
    "privilege": ("特权使用", "privilege"), "usb": ("USB 存储", "USB storage"),
}  # fmt: skip
HEAD = {"zh": ("时间", "类型", "用户", "来源", "服务", "地址", "详情"),
        "en": ("time", "kind", "user", "source", "service", "from", "detail")}  # fmt: skip


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("access-log", help="user access logs and USB storage (ROOM-6) / 访问日志")
    common.add_config_option(p)
    p.add_argument("--since", default="24h", metavar="WHEN", help="30m, 12h, 7d or a date/time (default 24h)")
    p.add_argument("--user", default="", metavar="NAME", help="only this user")
    p.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    p.set_defaults(func=run)


def parse_since(text: str, now: float) -> float:
    """Unix time of `--since`; raises ValueError with a message for anything else."""
    m = _DURATION.match(text.strip())
    if m:
        return now - int(m.group(1)) * _UNIT[m.group(2)]
    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        raise ValueError(f"--since {text!r}: use 30m, 12h, 7d or a date like 2026-12-01") from None


def user_matches(event: AccessEvent, wanted: str) -> bool:
    if not wanted:
        return True
    names = {n.strip().lower() for n in event.user.split(",")}
    names |= {n.rsplit("\\", 1)[-1] for n in names}
    return wanted.lower() in names


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _detail(event: AccessEvent) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(event.detail.items()) if k not in ("record_id", "event_id"))


def format_table(events: list[AccessEvent], chinese: bool) -> str:
    lang = "zh" if chinese else "en"
    rows: list[tuple[str, ...]] = [HEAD[lang]]
    for e in events:
        label = KIND_LABELS.get(e.kind, (e.kind, e.kind))[0 if chinese else 1]
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.ts))
        cells = (stamp, label, e.user or "-", e.source, e.service, e.host, _detail(e))
        rows.append(tuple(escape_controls(c) for c in cells))
    widths = [max(_width(r[i]) for r in rows) for i in range(len(HEAD[lang]) - 1)]
    lines = ["  ".join(c + " " * (w - _width(c)) for c, w in zip(r, widths, strict=False)) + "  " + r[-1]
             for r in rows]  # fmt: skip
    return "\n".join(line.rstrip() for line in lines)


def run(args: argparse.Namespace) -> int:
    loaded = common.load(args)
    try:
        since = parse_since(args.since, time.time())
    except ValueError as exc:
        print(f"hostward: {exc}", file=sys.stderr)
        return common.EXIT_USAGE
    stats: list[ReadStats] = []
    events = [e for e in Archive(loaded.state_dir).read(since, stats) if user_matches(e, args.user)]
    if args.json:
        for event in events:
            print(console.dumps(event.to_json()))
    elif not events:
        print("没有记录" if console.chinese_ok() else "no events")
    else:
        print(format_table(events, console.chinese_ok()))
    for s in stats:
        if s.bad_lines or s.torn:
            print(f"hostward: {s.bad_lines} unreadable lines; torn segments: {', '.join(s.torn) or '-'}",
                  file=sys.stderr)  # fmt: skip
    return common.EXIT_OK
