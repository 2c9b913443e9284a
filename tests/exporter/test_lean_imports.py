"""The exporter serves without loading prometheus_client's HTTP stack, and the text format it
writes itself is byte for byte what prometheus_client would write."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    StateSetMetricFamily,
    SummaryMetricFamily,
)
from prometheus_client.registry import CollectorRegistry

from agent.exporter.render import _SnapshotCollector
from agent.exporter.textformat import choose_encoder, generate_text
from agent.state import State

ROOT = Path(__file__).resolve().parents[2]


class _Odd:
    """Every family type, hostile label values and help text."""

    def collect(self) -> list[object]:
        gauge = GaugeMetricFamily("hostward_odd", 'Help with \\ and\nnewline "quoted".', labels=("v",))
        gauge.add_metric(('a"b\\c\nd',), float("nan"))
        gauge.add_metric(("inf",), float("inf"))
        counter = CounterMetricFamily("hostward_things", "Things.", labels=("k",), created=12.5)
        counter.add_metric(("x",), 3, created=10.0)
        hist = HistogramMetricFamily(
            "hostward_wait_seconds", "Waits.", buckets=[("0.1", 1), ("+Inf", 3)], sum_value=2
        )
        summ = SummaryMetricFamily("hostward_size_bytes", "Sizes.", count_value=4, sum_value=10.5)
        info = InfoMetricFamily("hostward_build", "Build.", value={"version": "1"})
        state = StateSetMetricFamily("hostward_mode", "Mode.", value={"on": True, "off": False})
        return [gauge, counter, hist, summ, info, state]


def test_the_text_format_matches_prometheus_client_byte_for_byte(state: State) -> None:
    ours = CollectorRegistry(auto_describe=False)
    ours.register(_Odd())  # type: ignore[arg-type]
    collector = _SnapshotCollector(__import__("agent.exporter.families", fromlist=["BUILDERS"]).BUILDERS)
    collector.snapshot = state.snapshot()
    ours.register(collector)
    assert generate_text(ours) == generate_latest(ours)


def test_openmetrics_only_when_asked_for() -> None:
    assert choose_encoder("")[1].startswith("text/plain; version=0.0.4")
    assert choose_encoder("text/plain;version=0.0.4;q=0.5,*/*;q=0.1")[1].startswith("text/plain")
    accept = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4"
    assert choose_encoder(accept)[1].startswith("application/openmetrics-text; version=1.0.0")


SCRIPT = """
import json, socket, sys, time, urllib.parse
from pathlib import Path
from agent.config import load_config
from agent.state import State
from agent.exporter.server import start_exporter
import socket as s_
with s_.socket() as s:
    s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
d = Path(sys.argv[1])
(d / "c.yaml").write_text(f'version: 1\\nstate_dir: {d}/state\\nexporter:\\n  listen: "127.0.0.1:{port}"\\n')
loaded = load_config(str(d / "c.yaml"))
st = State.open(loaded.state_dir)
st.record_run("collect", time.time(), 0.1, True)
h = start_exporter(loaded, st)
with socket.create_connection(h.address) as c:
    c.sendall(b"GET /metrics HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
    body = b""
    while chunk := c.recv(65536):
        body += chunk
h.close()
heavy = ["http.server", "wsgiref", "urllib.request", "email.parser", "prometheus_client.exposition"]
print(json.dumps({"ok": b"hostward_job_success" in body, "loaded": [m for m in heavy if m in sys.modules]}))
import prometheus_client
print(json.dumps({"full_api": callable(prometheus_client.generate_latest)}))
"""


def test_serving_metrics_never_loads_the_http_stack_of_prometheus_client(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    first, second = (json.loads(line) for line in out.stdout.splitlines())
    assert first == {"ok": True, "loaded": []}
    assert second == {"full_api": True}, "the full package still loads when someone asks for it"
