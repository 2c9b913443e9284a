"""What the exporter serves: /metrics, / (the status page) and /healthz, all behind basic
auth when it is configured. /metrics and / are gzip-compressed when the client asks
(`Accept-Encoding: gzip`, as Prometheus does; `q=0` refuses it), as node_exporter does; the
compressed /metrics is kept as long as the rendered one is."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.exporter.http import Request, Response, accepts_gzip, gzipped, plain
from agent.exporter.render import MetricsRenderer
from agent.state import State

if TYPE_CHECKING:
    from agent.exporter.auth import BasicAuth

_UNAUTHORIZED = {"WWW-Authenticate": 'Basic realm="hostward", charset="UTF-8"'}
_HTML_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


_VARY = {"Vary": "Accept-Encoding"}


class Routes:
    """The exporter's handler: /metrics, the status page and /healthz, behind basic auth when it is
    configured, gzipped for clients that accept it."""

    def __init__(self, state: State, auth: BasicAuth | None) -> None:
        self._state = state
        self._auth = auth
        self._metrics = MetricsRenderer()
        self._packed: tuple[bytes, bytes] | None = None  # (rendered /metrics, its gzip)

    def __call__(self, request: Request) -> Response:
        response = self._route(request)
        if request.path not in ("/metrics", "/") or response.status != 200:
            return response
        response = Response(
            response.status, response.body, response.content_type, {**response.headers, **_VARY}
        )
        if not accepts_gzip(request.headers.get("accept-encoding", "")):
            return response
        if request.path == "/metrics":
            cached = self._packed
            if cached is None or cached[0] is not response.body:
                packed = gzipped(response)
                self._packed = (response.body, packed.body)
                return packed
            return gzipped(response, cached[1])
        return gzipped(response)

    def _route(self, request: Request) -> Response:
        if self._auth is not None and not self._auth.check(request.headers.get("authorization")):
            return plain(401, headers=_UNAUTHORIZED)
        if request.path == "/metrics":
            body, content_type = self._metrics.render(
                self._state.snapshot(), request.headers.get("accept", "")
            )
            return Response(200, body, content_type)
        if request.path == "/":
            # the page's code (sections, the rule library, markupsafe) loads at its first view:
            # a daemon that is only scraped never holds it
            from agent.web.status import pick_lang, render_status

            lang = pick_lang(request.query.get("lang", [""])[0], request.headers.get("accept-language", ""))
            html = render_status(self._state.snapshot(), lang)
            return Response(200, html.encode(), "text/html; charset=utf-8", _HTML_HEADERS)
        if request.path == "/healthz":
            return plain(200, "ok")
        return plain(404)
