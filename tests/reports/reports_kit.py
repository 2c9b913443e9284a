"""Helpers for the report tests: the CLI in-process, real agents and a real Prometheus on
loopback, headless Chromium, and a PNG "is anything drawn" check without extra libraries."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import struct
import subprocess
import sys
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from testkit import free_port, wait_for  # noqa: F401

from agent.cli import main

HOSTWARD = Path(sys.executable).parent / "hostward"
PROMETHEUS = shutil.which("prometheus")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FAILING_CHECK = "site.forbidden_tools"
HOSTILE_SITE = '<img src=x onerror="alert(1)">'  # a target label: data that must stay data
# A site policy on top of the library: SW-1 (no forbidden software), with a deny list that
# matches nothing by default; one agent's config overrides it to deny `prometheus`, which the
# test machine has installed (and running): a real, deterministic failure.
SITE_POLICY = f"""\
version: 1
checks:
  - id: {FAILING_CHECK}
    title: {{zh: 未安装本院禁止的工具, en: No tools this site forbids}}
    rationale: SW-1 forbids software unrelated to work; the site keeps its own list.
    rules: [SW-1]
    severity: high
    parameters:
      deny: [hostward-test-no-such-package]
    remediation: {{zh: 卸载, en: remove it}}
    probe: {{name: forbidden_software}}
"""


def hostward(*argv: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `hostward ...` run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def query(prometheus: str, promql: str) -> list[dict[str, Any]]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=5) as response:
        answer = json.loads(response.read())
    assert answer["status"] == "success"
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


@dataclass
class Fleet:
    """Two agents (one failing SW-1), a dead target and the Prometheus scraping them."""

    prometheus: str
    good: str  # instance ("127.0.0.1:PORT")
    bad: str
    dead: str
    config: Path  # a config naming the site policy dir (for check titles in the report)
    started: float  # before any agent or Prometheus existed
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)


def agent_config(root: Path, name: str, port: int, policies: Path, disabled: list[str], extra: str) -> Path:
    path = root / f"{name}.yaml"
    path.write_text(
        f"version: 1\nstate_dir: {root / name}\nhost: {{name: {name}, role: office_pc}}\n"
        f'exporter: {{listen: "127.0.0.1:{port}"}}\n'
        "audit:\n  schedule: {every: 1h, timeout: 60s}\n"
        f"  policy_dirs: [{policies}]\n  disabled_checks: {json.dumps(disabled)}\n{extra}",
        encoding="utf-8",
    )
    return path


def prometheus_config(root: Path, targets: dict[str, dict[str, str]]) -> Path:
    """A scrape config: one static group per target with its labels (as file-based discovery
    from the inventory sets `host`, `role`, `site`; label values are data, may be hostile)."""
    groups = "".join(
        f"      - targets: ['{target}']\n        labels: {json.dumps(labels)}\n"
        for target, labels in targets.items()
    )
    path = root / "prometheus.yml"
    path.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"scrape_configs:\n  - job_name: hostward\n    static_configs:\n{groups}",
        encoding="utf-8",
    )
    return path


def chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--window-size=900,1270", *extra, url]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=90, check=False)


def png_drawn_share(png: bytes) -> tuple[int, int, float]:
    """(width, height, share of scanline bytes that are not the most common value).

    A blank page's scanlines, whatever PNG filter the encoder chose, are almost all one byte
    value; text, tables and coloured rows make many. Decoding the filters needs no library.
    """
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        data = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", data[:8])
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    raw = zlib.decompress(idat)
    commonest = max(range(256), key=raw.count)
    return width, height, 1.0 - raw.count(commonest) / len(raw)
