"""The lab's web: virtual hosts by name, reached through this server acting as an HTTP forward proxy.

Clients set `proxy=web.proxy_url`, exactly as they would use a production egress proxy: absolute-form
requests (`GET http://host/path`) are answered for lab hosts, and `CONNECT host:443` tunnels are
terminated here with a lab-CA certificate for the SNI name, then the same virtual host is served over
HTTPS. No client needs the fictional names to resolve and nothing connects to documentation-range
addresses. Direct requests with a `Host` header work too.
"""

from __future__ import annotations

import collections
import ssl
import threading
from typing import Any, Self

from lab import sites as site_kinds
from lab.net import LOOPBACK, AppHandler, HTTPService, LabHTTPServer, Request, Response, text_response
from lab.pki import LabPKI


class _WebServer(LabHTTPServer):
    web: LabWeb  # set by LabWeb.start()


class _WebHandler(AppHandler):
    scheme = "http"
    connect_host = ""
    server: _WebServer

    def do_CONNECT(self) -> None:
        host = self.path.rsplit(":", 1)[0].strip("[]").lower().rstrip(".")
        web = self.server.web
        web.log_request("CONNECT", "https", host, "")
        if web.site_for(host) is None:
            self.send_response(502, "Bad Gateway")
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        try:
            tls = web.pki.tls_context_for(host).wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the client gave up or did not trust us: nothing to serve
        _TLSHandler(tls, self.client_address, self.server, host)


class _TLSHandler(_WebHandler):
    scheme = "https"

    def __init__(self, request: Any, client_address: Any, server: Any, connect_host: str) -> None:
        self.connect_host = connect_host
        super().__init__(request, client_address, server)

    def _request(self) -> Request:
        req = super()._request()
        if not req.host:
            req.host = self.connect_host
        return req


class LabWeb(HTTPService):
    """Virtual hosts + forward proxy. `publish(host, kind, **options)`, `suspend(host)`, `unpublish(host)`."""

    handler_class = _WebHandler

    def __init__(self, pki: LabPKI | None = None, host: str = LOOPBACK, port: int = 0) -> None:
        super().__init__(host, port)
        self.pki = pki or LabPKI()
        self._own_pki = pki is None
        self._sites: dict[str, site_kinds.Site] = {}
        self._before_suspension: dict[str, site_kinds.Site] = {}
        self._lock = threading.Lock()
        self.requests: collections.deque[tuple[str, str, str, str]] = collections.deque(maxlen=10000)

    @property
    def proxy_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ca_cert_pem(self) -> str:
        return self.pki.ca_cert_pem

    @property
    def ca_file(self) -> str:
        return self.pki.ca_file

    # --- runtime API --------------------------------------------------------------------------

    def publish(self, host: str, kind: str, **options: Any) -> None:
        """Serve `kind` (see `lab.sites.KINDS`) on `host` (a `*.zone` host matches every name below)."""
        if kind not in site_kinds.KINDS:
            raise ValueError(f"unknown site kind {kind!r}; known: {', '.join(site_kinds.KINDS)}")
        with self._lock:
            self._sites[host.lower().rstrip(".")] = site_kinds.Site(kind, dict(options))
            self._before_suspension.pop(host.lower().rstrip("."), None)

    def suspend(self, host: str, registrar: str = "Cheap Names Ltd.") -> None:
        """Replace the site with the registrar's suspension page (remembered, so `restore()` can undo it)."""
        key = host.lower().rstrip(".")
        with self._lock:
            old = self._sites.get(key)
            if old and old.kind != "suspended":
                self._before_suspension[key] = old
            self._sites[key] = site_kinds.Site("suspended", {"registrar": registrar})

    def restore(self, host: str) -> None:
        key = host.lower().rstrip(".")
        with self._lock:
            if key in self._before_suspension:
                self._sites[key] = self._before_suspension.pop(key)

    def unpublish(self, host: str) -> None:
        with self._lock:
            self._sites.pop(host.lower().rstrip("."), None)

    def sites(self) -> dict[str, str]:
        with self._lock:
            return {h: s.kind for h, s in sorted(self._sites.items())}

    def site_for(self, host: str) -> site_kinds.Site | None:
        host = host.lower().rstrip(".")
        with self._lock:
            site = self._sites.get(host)
            if site is not None:
                return site
            labels = host.split(".")
            for i in range(1, len(labels)):
                site = self._sites.get("*." + ".".join(labels[i:]))
                if site is not None:
                    return site
        return None

    def reset(self) -> None:
        with self._lock:
            self._sites.clear()
            self._before_suspension.clear()
        self.requests.clear()

    def log_request(self, method: str, scheme: str, host: str, path: str) -> None:
        self.requests.append((method, scheme, host, path))

    # --- HTTP ---------------------------------------------------------------------------------

    def app(self, request: Request) -> Response:
        self.log_request(request.method, request.scheme, request.host, request.path)
        site = self.site_for(request.host)
        if site is None:
            if request.raw_path.startswith("http://") or request.scheme == "https":
                # as a proxy would: the origin is unreachable (inside a tunnel, the tunnel ends too)
                return text_response(f"lab proxy: cannot reach {request.host}\n", 502, headers={"Connection": "close"})
            return text_response(f"lab web: no site is published on {request.host or '(no Host)'}\n", 404)
        server = self._server
        stopping = server.stopping if isinstance(server, LabHTTPServer) else threading.Event()
        return site_kinds.render(site, request.host, request, stopping)

    def _make_server(self) -> _WebServer:
        return _WebServer((self.host, self._requested_port), self.handler_class, self.app)

    def start(self) -> Self:
        super().start()
        assert isinstance(self._server, _WebServer)
        self._server.web = self
        return self

    def stop(self) -> None:
        super().stop()
        if self._own_pki:
            self.pki.close()

