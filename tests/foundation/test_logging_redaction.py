"""Logging: text and JSON lines, to a stream or a file, and a registered secret never written."""

from __future__ import annotations

import io
import json
import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config.schema import LogConfig
from agent.logs import register_secret, setup_logging

SECRET = "s3cr3t-Pa55-for-logs-test"


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)


def emit_everything(log: logging.Logger, secret: str) -> None:
    log.info("password is %s", secret)
    log.warning(f"inline {secret} in the message")  # on purpose: not lazy
    log.info("extra field", extra={"repository": f"sftp:backup:{secret}@nas", "n": 3})
    try:
        raise RuntimeError(f"restic said: wrong password {secret!r}")
    except RuntimeError:
        log.exception("backup failed")


def test_an_unregistered_value_is_logged_as_is(restore_root: None) -> None:
    out = io.StringIO()
    setup_logging(LogConfig(level="info", format="text"), stream=out)
    logging.getLogger("agent.test").info("value %s", "not-a-secret-visible")
    assert "not-a-secret-visible" in out.getvalue()


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_registered_secret_never_appears_in_any_part_of_a_line(restore_root: None, fmt: str) -> None:
    out = io.StringIO()
    setup_logging(LogConfig(level="debug", format=fmt), stream=out)  # type: ignore[arg-type]
    register_secret(SECRET + "\n")  # as read from a password file
    emit_everything(logging.getLogger("agent.backup_test"), SECRET)
    text = out.getvalue()
    assert SECRET not in text
    assert text.count("***") == 4  # message args, inline message, extra field, exception text
    assert "sftp:backup:***@nas" in text
    assert "wrong password '***'" in text
    assert "Traceback (most recent call last)" in text if fmt == "text" else "Traceback" in text


def test_json_lines_carry_ts_level_logger_message_and_extra_fields(restore_root: None) -> None:
    out = io.StringIO()
    setup_logging(LogConfig(level="info", format="json"), stream=out)
    log = logging.getLogger("agent.scheduler_test")
    log.debug("not shown at info")
    log.info("job %s ok in %.2fs", "collect", 0.04, extra={"job": "collect"})
    [line] = out.getvalue().splitlines()
    entry = json.loads(line)
    assert set(entry) == {"ts", "level", "logger", "message", "job"}
    assert entry["level"] == "INFO"
    assert entry["logger"] == "agent.scheduler_test"
    assert entry["message"] == "job collect ok in 0.04s"
    assert entry["ts"].endswith("Z") and entry["ts"][10] == "T"


def test_text_lines_read_timestamp_level_logger_message(restore_root: None) -> None:
    out = io.StringIO()
    setup_logging(LogConfig(level="warning", format="text"), stream=out)
    logging.getLogger("agent.daemon_test").info("hidden")
    logging.getLogger("agent.daemon_test").warning("disk %s is %d%% full", "/srv", 93)
    [line] = out.getvalue().splitlines()
    assert line.endswith(" WARNING agent.daemon_test: disk /srv is 93% full")


def test_a_log_file_is_created_private_and_a_second_setup_replaces_the_handler(
    restore_root: None, tmp_path: Path
) -> None:
    path = tmp_path / "hostward.log"
    setup_logging(LogConfig(level="info", format="text", file=str(path)))
    setup_logging(LogConfig(level="info", format="json", file=str(path)))
    secret = "file-test-secret-registered-late"
    logging.getLogger("agent.file_test").info("once %s", secret)
    register_secret(secret)
    logging.getLogger("agent.file_test").info("twice %s", secret)
    lines = path.read_text().splitlines()
    assert [json.loads(x)["message"] for x in lines] == [f"once {secret}", "twice ***"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
