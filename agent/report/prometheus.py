"""A small client for Prometheus' HTTP API: instant queries at a point in time.

Only http(s) base URLs, a timeout on every request, no redirects followed, a cap on the answer
size; basic-auth credentials come from a file, never from argv (and never appear in errors).
Every failure is a `PrometheusError` whose message says what to fix.
"""

from __future__ import annotations

import base64
import json
import math
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from common.errors import HostwardError
from common.frozen import frozen

MAX_ANSWER_BYTES = 64 * 1024 * 1024


class PrometheusError(HostwardError):
    """Prometheus cannot be reached, refused the request, or answered something unusable."""


@frozen
class Sample:
    """One series of an instant vector: its labels and its value at the query time."""

    labels: Mapping[str, str]
    value: float


def parse_time(text: str) -> float:
    """Unix seconds from "1795400000", "1795400000.5" or RFC 3339 ("2026-11-23T08:00:00+08:00",
    "...Z"). A time without an offset is local time. ValueError with the accepted forms."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"not a time: {text!r}; give RFC 3339 (2026-11-23T08:00:00+08:00) or Unix seconds"
        ) from None
    return moment.timestamp()  # a naive datetime counts as local time


def check_url(url: str) -> str:
    """The base URL without a trailing slash; ValueError unless http(s) with a host and no
    credentials (those go in a file: a URL lands in shell history and process lists)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    if parts.username or parts.password:
        raise ValueError("no credentials in the URL; use --basic-auth-user and --basic-auth-password-file")
    if parts.query or parts.fragment:
        raise ValueError(f"the Prometheus URL takes no query or fragment: {url!r}")
    return url.rstrip("/")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is answered as the HTTP error it is


class PrometheusClient:
    """`PrometheusClient("http://127.0.0.1:9090").query('up', at=1795400000.0)` -> [Sample]."""

    def __init__(
        self,
        base_url: str,
        timeout: float = 10.0,
        basic_auth: tuple[str, str] | None = None,
        ca_file: str | None = None,
    ) -> None:
        self.base_url = check_url(base_url)
        self.timeout = timeout
        self._auth = (
            "Basic " + base64.b64encode(f"{basic_auth[0]}:{basic_auth[1]}".encode()).decode()
            if basic_auth
            else ""
        )
        context = ssl.create_default_context(cafile=ca_file)
        https = urllib.request.HTTPSHandler(context=context)
        self._opener = urllib.request.build_opener(_NoRedirect(), https)

    def __repr__(self) -> str:
        return f"PrometheusClient({self.base_url!r})"

    def query(self, promql: str, at: float) -> list[Sample]:
        """The instant vector of `promql` evaluated at `at` (Unix seconds)."""
        params = urllib.parse.urlencode({"query": promql, "time": f"{at:.3f}"})
        # check_url allowed http(s) only; the opener follows no redirect to another scheme.
        request = urllib.request.Request(f"{self.base_url}/api/v1/query?{params}")  # noqa: S310
        if self._auth:
            request.add_header("Authorization", self._auth)
        answer = self._fetch(request)
        data = answer.get("data")
        if not isinstance(data, dict) or data.get("resultType") != "vector":
            raise PrometheusError(f"Prometheus answered {promql!r} with no instant vector")
        samples = []
        for item in data.get("result") or []:
            try:
                labels = {str(k): str(v) for k, v in item["metric"].items()}
                value = float(item["value"][1])
            except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
                raise PrometheusError(f"unreadable sample in the answer to {promql!r}: {exc}") from exc
            if not math.isnan(value):
                samples.append(Sample(labels, value))
        return samples

    def _fetch(self, request: urllib.request.Request) -> dict[str, Any]:
        where = f"Prometheus at {self.base_url}"
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                body = response.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise PrometheusError(f"{where} refused the query: {_http_error(exc)}") from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise PrometheusError(f"cannot reach {where}: {reason}") from exc
        if len(body) > MAX_ANSWER_BYTES:
            raise PrometheusError(f"{where} answered more than {MAX_ANSWER_BYTES} bytes")
        try:
            answer = json.loads(body)
        except ValueError as exc:
            raise PrometheusError(f"{where} did not answer JSON (is this Prometheus?)") from exc
        if not isinstance(answer, dict) or answer.get("status") != "success":
            error = answer.get("error", "no reason given") if isinstance(answer, dict) else "not an object"
            raise PrometheusError(f"{where}: query failed: {error}")
        return answer


def _http_error(exc: urllib.error.HTTPError) -> str:
    text = f"HTTP {exc.code} {exc.reason}"
    if exc.code == 401:
        return text + " (check --basic-auth-user and --basic-auth-password-file)"
    try:
        detail = json.loads(exc.read(65536)).get("error")
    except (ValueError, AttributeError, OSError):
        detail = None
    return f"{text}: {detail}" if detail else text
