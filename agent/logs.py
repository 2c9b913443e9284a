"""Structured logging: text or JSON lines, to standard error or a file, secrets redacted.

Every module logs through `logging.getLogger(__name__)` with lazy `%s` arguments. Code that
reads a secret (a repository password, an SNMP community) calls `register_secret(value)`;
from then on the value is replaced by `***` in every message, argument, extra field,
exception text and traceback that passes through the handler `setup_logging` installs.

Text line:  2026-11-23T09:40:00.123Z INFO agent.scheduler: job collect ok in 0.04s
JSON line:  {"ts": "2026-11-23T09:40:00.123Z", "level": "INFO", "logger": "agent.scheduler",
             "message": "job collect ok in 0.04s"}
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from datetime import UTC, datetime
from typing import Any, TextIO

from agent.config.schema import LogConfig

MASK = "***"
_HANDLER_MARK = "_hostward_handler"
# Attributes every LogRecord has; anything else on a record came in through `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}

# C0 and C1 controls, DEL, and the Unicode line separators and bidirectional overrides.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None
_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Never log `value` (nor its stripped form) again, in any message of this process."""
    global _pattern
    candidates = {value, value.strip()} - {""}
    if not candidates:
        return
    with _lock:
        _secrets.update(candidates)
        # Longest first, so a secret containing another is masked whole.
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def redact(text: str) -> str:
    """`text` with every registered secret replaced by `***`."""
    pattern = _pattern
    return text if pattern is None else pattern.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """Rewrites a record before any formatter sees it: message, args and exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _pattern is None:
            return True
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD:
                setattr(record, key, _redact_value(value))
        return True


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(k)): _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact(str(value))


def escape_controls(text: str) -> str:
    r"""`text` with control characters shown as escapes (`\n`, `\x1b`, `\u202e`): a string
    from a host or device cannot forge a log line, nor drive the terminal that shows it."""
    return _CONTROLS.sub(_escape_one, text)


def _escape_one(found: re.Match[str]) -> str:
    char = found.group()
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char)
    return named or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class TextFormatter(logging.Formatter):
    """`TS LEVEL logger: message key=value ...`, then the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        message = escape_controls(record.getMessage())
        line = f"{_timestamp(record)} {record.levelname} {record.name}: {message}"
        extras = _extras(record)
        if extras:
            shown = (f"{k}={json.dumps(v, ensure_ascii=False, default=str)}" for k, v in extras.items())
            line += " " + escape_controls(" ".join(shown))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        for block in (record.exc_text, record.stack_info):
            if block:  # indented: a text inside it can never pass for a log line of its own
                line += "".join(f"\n  {escape_controls(part)}" for part in block.split("\n"))
        return redact(line)


class JSONFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, extra fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _extras(record).items():
            entry.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(_redact_value(entry), ensure_ascii=False, default=str)


def setup_logging(config: LogConfig, stream: TextIO | None = None) -> logging.Handler:
    """Install (or replace, on reload) hostward's handler on the root logger; return it.

    `config.file` empty means `stream` (default standard error, which systemd sends to the journal).
    """
    handler: logging.Handler
    if config.file:
        handler = _file_handler(config.file)
    else:
        handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JSONFormatter() if config.format == "json" else TextFormatter())
    handler.addFilter(RedactingFilter())
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(config.level.upper())
    return handler


def _file_handler(path: str) -> logging.Handler:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)  # logs may hold host details
    os.close(fd)
    if sys.platform == "win32":  # pragma: no cover - Windows has no logrotate
        return logging.FileHandler(path, encoding="utf-8")
    # only with a log file: a daemon that logs to stderr (the journal) never loads it
    from logging.handlers import WatchedFileHandler

    return WatchedFileHandler(path, encoding="utf-8")  # reopens the file when logrotate moves it
