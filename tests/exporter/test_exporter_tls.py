"""TLS with a certificate made by the real openssl CLI, verified by a real client."""

from __future__ import annotations

import http.client
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from exporter_helpers import raw_get

from agent.config import LoadedConfig
from agent.exporter.errors import ExporterError
from agent.exporter.server import ExporterHandle, start_exporter
from agent.state import State

Serve = Callable[[LoadedConfig], ExporterHandle]
pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")


def make_cert(directory: Path, name: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", f"/CN={name}", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return cert, key


def https_get(address: tuple[str, int], ctx: ssl.SSLContext, path: str = "/metrics") -> tuple[int, bytes]:
    conn = http.client.HTTPSConnection(*address, context=ctx, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_metrics_are_served_over_verified_tls(
    tmp_path: Path, make_loaded: Callable[..., LoadedConfig], serve: Serve
) -> None:
    cert, key = make_cert(tmp_path, "server")
    handle = serve(make_loaded(f"tls: {{cert_file: {cert}, key_file: {key}, min_version: TLS13}}"))
    assert handle.url.startswith("https://127.0.0.1:")
    trusted = ssl.create_default_context(cafile=str(cert))
    status, body = https_get(handle.address, trusted)
    assert status == 200 and b"hostward_memory_total_bytes" in body
    with pytest.raises(ssl.SSLCertVerificationError):  # a client that does not trust the cert
        https_get(handle.address, ssl.create_default_context())
    old = ssl.create_default_context(cafile=str(cert))
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises(ssl.SSLError):  # below min_version
        https_get(handle.address, old)
    # Plain HTTP to the TLS port gets no metrics.
    try:
        answer = raw_get(handle.address, "/metrics", timeout=3)
    except OSError:
        answer = b""
    assert b"hostward_" not in answer


def test_client_certificates_are_required_when_a_client_ca_is_set(
    tmp_path: Path, make_loaded: Callable[..., LoadedConfig], serve: Serve
) -> None:
    cert, key = make_cert(tmp_path, "server")
    client_cert, client_key = make_cert(tmp_path, "prometheus")
    handle = serve(make_loaded(f"tls: {{cert_file: {cert}, key_file: {key}, client_ca_file: {client_cert}}}"))
    with_cert = ssl.create_default_context(cafile=str(cert))
    with_cert.load_cert_chain(str(client_cert), str(client_key))
    assert https_get(handle.address, with_cert)[0] == 200
    without = ssl.create_default_context(cafile=str(cert))
    with pytest.raises((ssl.SSLError, ConnectionError, http.client.RemoteDisconnected)):
        https_get(handle.address, without)


def test_a_slow_tls_handshake_does_not_stall_other_clients(
    tmp_path: Path, make_loaded: Callable[..., LoadedConfig], serve: Serve
) -> None:
    cert, key = make_cert(tmp_path, "server")
    handle = serve(make_loaded(f"tls: {{cert_file: {cert}, key_file: {key}}}\nrequest_timeout: 2s"))
    silent = socket.create_connection(handle.address, timeout=5)  # connects, never says hello
    try:
        assert https_get(handle.address, ssl.create_default_context(cafile=str(cert)))[0] == 200
    finally:
        silent.close()


def test_unusable_tls_files_are_an_exporter_error(
    tmp_path: Path, make_loaded: Callable[..., LoadedConfig], state: State
) -> None:
    cert, _ = make_cert(tmp_path, "server")
    other_cert, other_key = make_cert(tmp_path, "other")
    for tls in (
        f"{{cert_file: {cert}, key_file: {tmp_path / 'missing.key'}}}",
        f"{{cert_file: {cert}, key_file: {other_key}}}",  # a key that does not match
    ):
        with pytest.raises(ExporterError, match="TLS"):
            start_exporter(make_loaded(f"tls: {tls}"), state)
    assert other_cert.exists()


def test_a_client_dribbling_its_tls_hello_is_dropped_at_the_deadline(
    tmp_path: Path, make_loaded: Callable[..., LoadedConfig], serve: Serve
) -> None:
    cert, key = make_cert(tmp_path, "server")
    handle = serve(make_loaded(f"tls: {{cert_file: {cert}, key_file: {key}}}\nrequest_timeout: 1s"))
    # A real ClientHello, sent one byte every 0.2 s: each read is quick, the whole is not.
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = ssl.create_default_context(cafile=str(cert)).wrap_bio(
        incoming, outgoing, server_hostname="localhost"
    )
    with pytest.raises(ssl.SSLWantReadError):
        client.do_handshake()
    hello = outgoing.read()
    started = time.monotonic()
    with socket.create_connection(handle.address, timeout=5) as sock:
        with pytest.raises(OSError):
            for byte in hello:
                sock.sendall(bytes([byte]))
                time.sleep(0.2)
            raise AssertionError("the whole hello was accepted")  # pragma: no cover
        elapsed = time.monotonic() - started
    assert elapsed < 3.0
