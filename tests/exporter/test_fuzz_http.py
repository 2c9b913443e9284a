"""Fuzzing the exporter's HTTP request reader with Hypothesis.

Arbitrary request bytes end in a valid parse, a 4xx (or 505 for another HTTP version), or a
dropped connection when the request never completed; never an exception escaping, never a
wait for the deadline once the client has stopped sending. Framing that two parsers could read
differently is always 400. Example counts come from the Hypothesis profile (tests/conftest.py)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from exporter_helpers import free_port, raw_get, status_of
from hypothesis import given
from hypothesis import strategies as st

from agent.config import load_config
from agent.exporter.http import BadRequest, ClientGone, Request, accepts_gzip, parse_head, read_request
from agent.exporter.server import ExporterHandle, start_exporter
from agent.state import State

REFUSALS = {400, 413, 431, 505}
ANSWERS = {200, 401, 404, 405} | REFUSALS


def read_all(raw: bytes) -> Request | BaseException | None:
    """`raw` through read_request over a socket pair whose sender then stops sending."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(raw)
        theirs.shutdown(socket.SHUT_WR)
        try:
            return read_request(ours, bytearray(), time.monotonic() + 30)
        except (BadRequest, ClientGone) as exc:
            return exc


@given(st.binary(max_size=20_000))
def test_arbitrary_bytes_parse_or_are_refused_or_dropped(raw: bytes) -> None:
    outcome = read_all(raw)
    if isinstance(outcome, BadRequest):
        assert outcome.status in REFUSALS
    else:
        assert outcome is None or isinstance(outcome, (Request, ClientGone))


TOKEN = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz-ABCXYZ0123456789"), min_size=1, max_size=12)
EOL = st.sampled_from(["\r\n", "\n"])
FRAMING_NAMES = st.sampled_from(["Content-Length", "content-length", "Transfer-Encoding", "Host", "X-Other"])
HEADERS = st.lists(
    st.tuples(st.one_of(TOKEN, FRAMING_NAMES), st.sampled_from(["0", "5", "chunked", "x", "", "+0", "0, 0"])),
    max_size=6,
)


@given(st.sampled_from(["GET", "HEAD", "POST"]), st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2.0"]),
       st.lists(TOKEN, max_size=3), HEADERS, st.lists(EOL, min_size=8, max_size=8))  # fmt: skip
def test_heads_with_any_line_ends_follow_the_framing_rules(
    method: str, version: str, path: list[str], headers: list[tuple[str, str]], eols: list[str]
) -> None:
    lines = [f"{method} /{'/'.join(path)} {version}"] + [f"{name}: {value}" for name, value in headers]
    head = "".join(line + eols[i % len(eols)] for i, line in enumerate(lines)) + eols[-1]
    outcome = read_all(head.encode("latin-1"))
    seen = [name.lower() for name, _ in headers]
    lengths = [value for name, value in headers if name.lower() == "content-length"]
    duplicated = any(seen.count(n) > 1 for n in ("content-length", "transfer-encoding", "host"))
    if version == "HTTP/2.0":
        assert isinstance(outcome, BadRequest) and outcome.status == 505
    elif duplicated or (lengths and "transfer-encoding" in seen) or any(not v.isdigit() for v in lengths):
        assert isinstance(outcome, BadRequest) and outcome.status == 400
    elif "transfer-encoding" in seen or any(int(v) for v in lengths):
        assert isinstance(outcome, BadRequest) and outcome.status == 413
    else:
        assert isinstance(outcome, Request), outcome
        assert (outcome.method, outcome.path, outcome.version) == (method, "/" + "/".join(path), version)


URLISH = st.builds(
    str.__add__,
    st.sampled_from(["/", "//", "http://", "*", ""]),
    st.text(st.sampled_from("[]:/?#@%&=.;hx0"), max_size=24),
)
HEADS = st.one_of(
    st.text(max_size=2000),
    st.builds(lambda target, rest: f"GET {target} HTTP/1.1\r\n{rest}\r\n", URLISH, st.text(max_size=200)),
)


@given(HEADS)
def test_any_decoded_head_is_a_request_or_a_refusal(head: str) -> None:
    try:
        assert isinstance(parse_head(head), Request)
    except BadRequest as exc:
        assert exc.status in REFUSALS


@given(st.text(max_size=200))
def test_any_accept_encoding_gives_a_plain_yes_or_no(value: str) -> None:
    assert accepts_gzip(value) in (True, False)


@given(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["gzip", "GZip", "x-gzip"]))
def test_gzip_is_used_exactly_when_its_q_value_is_above_zero(q: float, name: str) -> None:
    assert accepts_gzip(f"deflate, {name};q={q!r}") == (0 < q <= 1)


@pytest.fixture(scope="module")
def exporter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExporterHandle]:
    """A real exporter on loopback whose request deadline no client here ever waits for."""
    work = tmp_path_factory.mktemp("fuzz-http")
    config = work / "hostward.yaml"
    config.write_text(
        f"version: 1\nstate_dir: {work / 'state'}\n"
        f'exporter: {{listen: "127.0.0.1:{free_port()}", request_timeout: 120s}}\n'
    )
    state = State.open(work / "state")
    handle = start_exporter(load_config(str(config)), state)
    yield handle
    handle.close()
    state.close()


@given(st.binary(max_size=4096))
def test_the_running_exporter_answers_or_drops_whatever_arrives(exporter: ExporterHandle, raw: bytes) -> None:
    chunks = []
    with socket.create_connection(exporter.address, timeout=30) as sock:
        try:
            sock.sendall(raw)
            sock.shutdown(socket.SHUT_WR)  # the request is over: no waiting for the deadline
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except (ConnectionResetError, BrokenPipeError):
            pass  # answered and closed before reading all we sent
    answer = b"".join(chunks)
    assert answer == b"" or (answer.startswith(b"HTTP/1.1 ") and status_of(answer) in ANSWERS)
    assert status_of(raw_get(exporter.address, "/healthz")) == 200
