"""Small networking helpers shared by the lab servers: free ports and a background HTTP service.

Every lab server binds 127.0.0.1 only. The HTTP service is a ThreadingHTTPServer that remembers its
open connections so `stop()` can cut keep-alive and streaming clients instead of leaking threads.
"""

from __future__ import annotations

import json
import socket
import socketserver
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

LOOPBACK = "127.0.0.1"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port free right now on 127.0.0.1 (for servers that cannot bind port 0, like aiosmtpd)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


@dataclass
class Request:
    method: str
    path: str  # decoded path without the query string
    query: dict[str, str]
    headers: Message
    body: bytes = b""
    raw_path: str = ""
    host: str = ""  # from the absolute-form target or the Host header, without port
    scheme: str = "http"

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None,
                  content_type: str = "application/json") -> Response:
    body = json.dumps(obj, ensure_ascii=False, indent=1, default=str).encode()  # dates from TOML: ISO text
    return Response(status, body, content_type, dict(headers or {}))


def text_response(text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8",
                  headers: dict[str, str] | None = None) -> Response:
    return Response(status, text.encode(), content_type, dict(headers or {}))


App = Callable[[Request], Response]


class LabHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that can close every open connection when it stops."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], app: App) -> None:
        self.app = app
        self.stopping = threading.Event()
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Browsers and crawlers drop connections mid-request all the time (a page abandoned, a timeout);
        # that is a client's normal behaviour, not a lab fault worth a traceback.
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError | TimeoutError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class AppHandler(BaseHTTPRequestHandler):
    """Turns HTTP/1.1 requests into `Request` objects for the server's app callable."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms delayed-ACK stalls
    server: LabHTTPServer
    timeout = 30  # an idle keep-alive client does not hold a thread forever

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read results, not logs
        pass

    def _request(self) -> Request:
        parts = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        host = parts.hostname or urllib.parse.urlsplit("//" + (self.headers.get("Host") or "")).hostname or ""
        return Request(self.command, urllib.parse.unquote(parts.path) or "/", query, self.headers, body, self.path,
                       host.lower().rstrip("."), getattr(self, "scheme", "http"))

    def _dispatch(self) -> None:
        try:
            response = self.server.app(self._request())
        except Exception as exc:  # a bug in a lab route must show up as a 500, not a hung client
            response = text_response(f"lab error: {exc!r}\n", 500)
        self.write_response(response)

    def write_response(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        for key, value in response.headers.items():
            self.send_header(key, value)
            if key.lower() == "connection" and value.lower() == "close":
                self.close_connection = True
        if isinstance(response.body, bytes | bytearray):
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
            return
        # Streamed body: chunked transfer, stops when the client goes away or the server stops.
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for chunk in response.body:
                if self.server.stopping.is_set():
                    break
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _dispatch


class ThreadedService:
    """A socketserver in a background thread on loopback: `start()`, `stop()`, context manager.

    Subclasses say how to make their server (`_make_server`) and, if needed, how to close it.
    """

    def __init__(self, host: str = LOOPBACK, port: int = 0) -> None:
        self.host = host
        self._requested_port = port
        self.port = port
        self._server: socketserver.BaseServer | None = None
        self._thread: threading.Thread | None = None

    def _make_server(self) -> socketserver.TCPServer:
        raise NotImplementedError

    def _thread_name(self) -> str:
        return f"{type(self).__name__}:{self.port}"

    def _close(self, server: socketserver.BaseServer) -> None:
        server.shutdown()
        server.server_close()

    def start(self) -> Self:
        if self._server is not None:
            return self
        server = self._make_server()
        self._server = server
        self.port = int(server.server_address[1])
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=self._thread_name(), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._close(server)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class HTTPService(ThreadedService):
    """Runs an app on a LabHTTPServer in a background thread."""

    handler_class: type[BaseHTTPRequestHandler] = AppHandler

    @property
    def url(self) -> str:
        """Server root, with a trailing slash."""
        return f"http://{self.host}:{self.port}/"

    def app(self, request: Request) -> Response:
        raise NotImplementedError

    def _make_server(self) -> LabHTTPServer:
        return LabHTTPServer((self.host, self._requested_port), self.handler_class, self.app)

    def _close(self, server: socketserver.BaseServer) -> None:
        assert isinstance(server, LabHTTPServer)
        server.stopping.set()
        server.shutdown()
        server.close_connections()  # long-lived responses (the endless page) must not outlive the lab
        server.server_close()


class OwnedTCPServer(socketserver.ThreadingTCPServer):
    """A threaded TCP server whose handlers reach the service object as ``self.server.owner``."""

    daemon_threads = True
    allow_reuse_address = True
    owner: Any


class TCPService(ThreadedService):
    """A line-protocol service (WHOIS, IMAP). Subclasses set ``handler_class`` and ``thread_name``."""

    handler_class: type[socketserver.BaseRequestHandler]
    thread_name = "lab-tcp"

    def _make_server(self) -> OwnedTCPServer:
        server = OwnedTCPServer((self.host, self._requested_port), self.handler_class)
        server.owner = self
        return server

    def _thread_name(self) -> str:
        return self.thread_name
