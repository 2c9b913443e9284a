"""The Prometheus text format 0.0.4 and the OpenMetrics choice, without prometheus_client's
`exposition` module (which would load its HTTP stack, see agent/exporter/__init__.py).

`generate_text` follows prometheus_client.exposition.generate_latest for legacy metric names
(Apache-2.0, The Prometheus Authors); a test compares both outputs byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS_TYPE
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

_go_float: Callable[[Any], str] = floatToGoString  # untyped upstream; float -> "1.5e+09", "NaN"
TEXT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_TYPES = {"counter": "counter", "info": "gauge", "stateset": "gauge", "gaugehistogram": "histogram",
          "unknown": "untyped"}  # fmt: skip
_SUFFIX = {"counter": "_total", "info": "_info"}
_OM_ONLY = ("_created", "_gsum", "_gcount")


def _escape_value(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _escape_help(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n")


def _line(sample: Sample) -> str:
    labels = ""
    if sample.labels:
        labels = "{" + ",".join(f'{k}="{_escape_value(v)}"' for k, v in sorted(sample.labels.items())) + "}"
    timestamp = "" if sample.timestamp is None else f" {int(float(sample.timestamp) * 1000):d}"
    return f"{sample.name}{labels} {_go_float(sample.value)}{timestamp}\n"


def generate_text(registry: Collector) -> bytes:
    output: list[str] = []
    for metric in registry.collect():
        name = metric.name + _SUFFIX.get(metric.type, "")
        output.append(f"# HELP {name} {_escape_help(metric.documentation)}\n")
        output.append(f"# TYPE {name} {_TYPES.get(metric.type, metric.type)}\n")
        extra: dict[str, list[str]] = {}
        for sample in metric.samples:
            suffix = next((s for s in _OM_ONLY if sample.name == metric.name + s), None)
            if suffix is None:
                output.append(_line(sample))
            else:  # OpenMetrics-only samples become a gauge of their own at the end
                extra.setdefault(suffix, []).append(_line(sample))
        for suffix, lines in sorted(extra.items()):
            output.append(f"# HELP {metric.name}{suffix} {_escape_help(metric.documentation)}\n")
            output.append(f"# TYPE {metric.name}{suffix} gauge\n")
            output.extend(lines)
    return "".join(output).encode("utf-8")


def choose_encoder(accept: str) -> tuple[Callable[[Collector], bytes], str]:
    """OpenMetrics 1.0 when the client asks for it (as Prometheus does), else text 0.0.4."""
    for item in (accept or "").split(","):
        if item.split(";")[0].strip() == "application/openmetrics-text":
            return generate_openmetrics, OPENMETRICS_TYPE
    return generate_text, TEXT_TYPE
