"""bcrypt basic auth on the real server: who gets in, who does not, and failing closed."""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import Callable

import bcrypt
import pytest
from exporter_helpers import raw_get, status_of

from agent.config import LoadedConfig
from agent.exporter.auth import BasicAuth
from agent.exporter.errors import ExporterError
from agent.exporter.server import ExporterHandle, start_exporter
from agent.state import State

Serve = Callable[[LoadedConfig], ExporterHandle]
PASSWORD = "correct horse battery"
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()


def basic(user: str, password: str) -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return f"Authorization: Basic {token}\r\n"


@pytest.fixture
def guarded(make_loaded: Callable[..., LoadedConfig], serve: Serve) -> tuple[str, int]:
    return serve(make_loaded(f'basic_auth_users: {{prometheus: "{HASH}"}}')).address


def test_the_right_user_and_password_get_in(guarded: tuple[str, int]) -> None:
    answer = raw_get(guarded, "/metrics", basic("prometheus", PASSWORD))
    assert status_of(answer) == 200 and b"hostward_build_info" in answer
    assert status_of(raw_get(guarded, "/", basic("prometheus", PASSWORD))) == 200


@pytest.mark.parametrize(
    "headers",
    [
        "",
        basic("prometheus", "wrong password"),
        basic("nobody", PASSWORD),
        basic("prometheus", HASH),
        "Authorization: Bearer abc\r\n",
        "Authorization: Basic not-base64!\r\n",
    ],
    ids=["no credentials", "wrong password", "unknown user", "the hash as password", "bearer", "garbage"],
)
def test_everyone_else_gets_401_on_every_path(guarded: tuple[str, int], headers: str) -> None:
    for path in ("/metrics", "/", "/healthz", "/nothing"):
        answer = raw_get(guarded, path, headers)
        assert status_of(answer) == 401
        assert b'WWW-Authenticate: Basic realm="hostward"' in answer
        assert b"hostward_" not in answer


def test_a_hash_bcrypt_rejects_stops_the_exporter_from_starting(
    make_loaded: Callable[..., LoadedConfig], state: State
) -> None:
    broken = "$2b$99$" + HASH[7:]  # passes the config's shape check, but cost 99 is invalid
    loaded = make_loaded(f'basic_auth_users: {{prometheus: "{broken}"}}')
    with pytest.raises(ExporterError, match="unusable bcrypt hash"):
        start_exporter(loaded, state)
    host, port = loaded.config.exporter.listen.rsplit(":", 1)
    with pytest.raises(ConnectionRefusedError):  # failed closed: nothing listens
        socket.create_connection((host, int(port)), timeout=2).close()


def test_an_unknown_user_costs_as_much_as_a_wrong_password() -> None:
    hashed = bcrypt.hashpw(b"secret", bcrypt.gensalt(rounds=10)).decode()
    auth = BasicAuth({"prometheus": hashed})

    def cost(user: str, password: str) -> float:
        header = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        started = time.perf_counter()
        assert auth.check(header) is False
        return time.perf_counter() - started

    # Interleaved, best of 7 each: a busy machine slows both alike instead of one of them.
    pairs = [(cost("prometheus", "nope"), cost("mallory", "nope")) for _ in range(7)]
    wrong = min(w for w, _ in pairs)
    unknown = min(u for _, u in pairs)
    assert wrong > 0.01  # a real bcrypt round at cost 10
    assert 0.5 < unknown / wrong < 2.0


def test_a_successful_check_is_cached_and_a_failed_one_is_not() -> None:
    hashed = bcrypt.hashpw(b"secret", bcrypt.gensalt(rounds=10)).decode()
    auth = BasicAuth({"prometheus": hashed})
    good = "Basic " + base64.b64encode(b"prometheus:secret").decode()
    bad = "Basic " + base64.b64encode(b"prometheus:wrong").decode()
    started = time.perf_counter()
    assert auth.check(good)
    first = time.perf_counter() - started
    started = time.perf_counter()
    assert auth.check(good)
    again = time.perf_counter() - started
    assert again < first / 10
    for _ in range(2):
        started = time.perf_counter()
        assert not auth.check(bad)
        assert time.perf_counter() - started > first / 3
