"""The Prometheus exporter: metric families built from stored records, and the HTTP server.

Memory: prometheus_client's package `__init__` imports its whole HTTP stack (http.server,
wsgiref, urllib.request, ssl, email), about 4 MiB of resident memory the agent never uses: it
needs only `metrics_core`, `registry` and the encoders. Importing this package therefore
installs prometheus_client as a *lean package*: its submodules import as usual
(`from prometheus_client.metrics_core import GaugeMetricFamily` works unchanged), and the first
use of a top-level name (`prometheus_client.generate_latest`) loads the full package, so code
that wants it still gets it. Nothing happens if prometheus_client was imported already.
"""

from __future__ import annotations

import importlib.util
import os
import sys


def _install_lean_prometheus_client() -> None:
    if "prometheus_client" in sys.modules:
        return
    spec = importlib.util.find_spec("prometheus_client")
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    module = importlib.util.module_from_spec(spec)
    loader = spec.loader
    locations = list(spec.submodule_search_locations)

    def is_submodule(name: str) -> bool:
        return any(
            os.path.exists(os.path.join(d, name + ".py")) or os.path.isdir(os.path.join(d, name))
            for d in locations
        )

    def load_everything(name: str) -> object:
        # `from . import values` inside the package asks for a submodule: let the import
        # system load just that one (AttributeError tells it to).
        if name.startswith("__") or is_submodule(name):
            raise AttributeError(name)
        module.__dict__.pop("__getattr__", None)
        loader.exec_module(module)  # the real __init__, run in this very module object
        return getattr(module, name)

    setattr(module, "__getattr__", load_everything)  # noqa: B010 - PEP 562 module __getattr__
    sys.modules["prometheus_client"] = module


_install_lean_prometheus_client()
__all__: list[str] = []
