"""Basic auth on a real `hostward run`: every wrong way in gets 401, an unknown user costs
the same time as a known one, and a broken auth or TLS config fails closed (never serves
unauthenticated), at start and on SIGHUP."""

from __future__ import annotations

import shutil
import signal
import socket
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import bcrypt
import pytest
from reliability_kit import Agent, basic, free_port, raw_get, run_hostward, status_of

PASSWORD = "scrape-me-9f2c"
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=10)).decode()
CONFIG = """\
version: 1
state_dir: {state}
exporter:
  listen: "127.0.0.1:PORT"
  max_concurrent_requests: 4
  request_timeout: 3s
  basic_auth_users: {prometheus: "HASH"}
"""
WRONG_WAYS = {
    "no credentials": "",
    "wrong password": basic("prometheus", "scrape-me-9f2d"),
    "unknown user": basic("mallory", PASSWORD),
    "the stored hash as password": basic("prometheus", HASH),
    "empty password": basic("prometheus", ""),
    "user with a colon": basic("prometheus:x", PASSWORD),
}


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def seconds_of(port: int, headers: str) -> float:
    started = time.perf_counter()
    answer = raw_get(port, "/healthz", headers)
    elapsed = time.perf_counter() - started
    assert status_of(answer) == 401
    return elapsed


@pytest.fixture
def guarded(start_agent: Callable[[str], Agent]) -> tuple[Agent, int]:
    port = free_port()
    agent = start_agent(CONFIG.replace("PORT", str(port)).replace("HASH", HASH))
    agent.wait_serving()
    return agent, port


def test_every_wrong_way_in_gets_401_and_the_right_one_200(guarded: tuple[Agent, int]) -> None:
    _, port = guarded
    for name, headers in WRONG_WAYS.items():
        for path in ("/metrics", "/", "/healthz"):
            answer = raw_get(port, path, headers)
            assert status_of(answer) == 401, (name, path)
            assert b"hostward_" not in answer and b"<html" not in answer.lower(), (name, path)
    answer = raw_get(port, "/metrics", basic("prometheus", PASSWORD))
    assert status_of(answer) == 200 and b"hostward_build_info" in answer


def test_an_unknown_user_takes_as_long_as_a_known_user_with_a_wrong_password(
    guarded: tuple[Agent, int],
) -> None:
    _, port = guarded
    known = basic("prometheus", "not-the-password")
    unknown = basic("nobody-here", "not-the-password")
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for _ in range(9):  # interleaved, so load on the machine hits both alike
        times["known"].append(seconds_of(port, known))
        times["unknown"].append(seconds_of(port, unknown))
    medians = {k: statistics.median(v) for k, v in times.items()}
    print("\nauth medians (s):", {k: round(v, 4) for k, v in medians.items()})
    assert medians["known"] > 0.01, "a real bcrypt round at cost 10 is being paid"
    assert 0.5 < medians["unknown"] / medians["known"] < 2.0, medians


def test_a_hash_bcrypt_rejects_refuses_to_start_and_listens_on_nothing(tmp_path: Path) -> None:
    port = free_port()
    broken = "$2b$99$" + HASH[7:]  # the config's shape check passes; bcrypt refuses cost 99
    config = tmp_path / "hostward.yaml"
    config.write_text(CONFIG.replace("{state}", str(tmp_path / "state")).replace("PORT", str(port))
                      .replace("HASH", broken))  # fmt: skip
    result = run_hostward("run", "-c", str(config), timeout=30)
    assert result.returncode == 2
    assert "unusable bcrypt hash" in result.stderr
    assert not listening(port)


def test_a_hash_of_the_wrong_shape_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "hostward.yaml"
    config.write_text(CONFIG.replace("{state}", str(tmp_path / "state")).replace("PORT", str(free_port()))
                      .replace("HASH", "plaintext-password"))  # fmt: skip
    result = run_hostward("run", "-c", str(config), timeout=30)
    assert result.returncode == 2
    assert f"{config}:7: exporter.basic_auth_users: user 'prometheus': not a bcrypt hash" in result.stderr


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")
@pytest.mark.parametrize("key", ["missing", "garbage", "another key"])
def test_an_unusable_tls_key_refuses_to_start_and_listens_on_nothing(tmp_path: Path, key: str) -> None:
    def make(name: str) -> tuple[Path, Path]:
        cert, key_file = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-days", "2", "-subj", f"/CN={name}", "-keyout", str(key_file), "-out", str(cert)],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip
        return cert, key_file

    cert, key_file = make("agent")
    if key == "missing":
        key_file.unlink()
    elif key == "garbage":
        key_file.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    else:
        key_file = make("other")[1]
    port = free_port()
    config = tmp_path / "hostward.yaml"
    text = CONFIG.replace("{state}", str(tmp_path / "state")).replace("PORT", str(port)).replace("HASH", HASH)
    config.write_text(text + f"  tls: {{cert_file: {cert}, key_file: {key_file}}}\n")
    result = run_hostward("run", "-c", str(config), timeout=30)
    assert result.returncode == 2, result.stderr
    assert "exporter TLS files unusable" in result.stderr
    assert not listening(port)


def test_a_sighup_into_a_broken_auth_config_keeps_the_old_guard(guarded: tuple[Agent, int]) -> None:
    agent, port = guarded
    good = agent.config.read_text()
    agent.config.write_text(good.replace(HASH, "$2b$99$" + HASH[7:]))
    agent.proc.send_signal(signal.SIGHUP)
    agent.wait_for(lambda: "reload refused" in agent.stderr, what="the refusal")
    agent.wait_for(lambda: listening(port), what="the old exporter back")
    assert status_of(raw_get(port, "/metrics")) == 401
    assert status_of(raw_get(port, "/metrics", basic("prometheus", PASSWORD))) == 200
    # Removing the users by mistake in a broken file: refused as a whole, still guarded.
    agent.config.write_text(good.replace("  basic_auth_users:", "  basic_auth_user:"))
    agent.proc.send_signal(signal.SIGHUP)
    agent.wait_for(lambda: agent.stderr.count("reload refused") >= 2, what="the second refusal")
    assert status_of(raw_get(port, "/metrics")) == 401
    assert agent.proc.poll() is None
