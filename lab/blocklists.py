"""Browser blocklists as real HTTP servers: Google Web Risk, Netcraft's report API, APWG eCrime eXchange.

One server speaks the three protocols on their documented paths, so omamori's clients are pointed at
it by base URL and run unchanged:

- Web Risk (cloud.google.com/web-risk/docs/reference/rest): ``POST /v1/projects/{project}/uris:submit?key=``
  with ``{"submission": {"uri"}, "threatInfo", "threatDiscovery"}`` answers a long-running Operation
  (``name``, ``metadata.state``); ``GET /v1/uris:search?uri=&threatTypes=SOCIAL_ENGINEERING&key=`` answers
  ``{}`` or ``{"threat": {"threatTypes": [...], "expireTime"}}``.
- Netcraft (report.netcraft.com/api/v3): ``POST /api/v3/report/urls`` with ``{"email", "reason",
  "urls": [{"url", "country"}]}`` answers ``{"message", "uuid"}``; ``GET /api/v3/submission/{uuid}``
  (``state``) and ``/api/v3/submission/{uuid}/urls`` (``urls[].url_state``).
- APWG eCX (api.ecrimex.net, members): ``POST /phish`` with ``Authorization: <token>`` and ``{"url",
  "brand", "confidence_level"}`` answers ``{"id"}``; ``GET /phish?url=`` answers ``{"data": [...]}``.

A submitted URL is *listed* ``listing_delay`` seconds after its first submission (``set_delay``,
per service), as the real services list a confirmed phish minutes after a report. Keys: any
non-empty key or token is accepted; a missing one is refused as the service would (401/403).
Imports nothing from the product.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lab.net import LOOPBACK, HTTPService, Request, Response, json_response

SERVICES = ("webrisk", "netcraft", "apwg")


@dataclass
class Submission:
    service: str
    url: str
    at: float
    id: str
    body: dict[str, Any] = field(default_factory=dict)


class LabBlocklists(HTTPService):
    """`submissions`, `listed(service, url)`; `set_delay(seconds, service=None)`; `reject_next(service)`."""

    def __init__(self, host: str = LOOPBACK, port: int = 0, listing_delay: float = 3.0) -> None:
        super().__init__(host, port)
        self.delays = dict.fromkeys(SERVICES, listing_delay)
        self.submissions: list[Submission] = []
        self.lookups: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._reject: dict[str, int] = {}
        self._next = 1

    def set_delay(self, seconds: float, service: str | None = None) -> None:
        for s in [service] if service else SERVICES:
            self.delays[s] = float(seconds)

    def reject_next(self, service: str, status: int = 400) -> None:
        self._reject[service] = status

    def listed(self, service: str, url: str) -> bool:
        with self._lock:
            first = min((s.at for s in self.submissions if s.service == service and s.url == url), default=None)
        return first is not None and time.monotonic() - first >= self.delays[service]

    def _submit(self, service: str, url: str, body: dict[str, Any]) -> Submission:
        with self._lock:
            sid = str(self._next) if service == "apwg" else str(uuid.uuid4())
            self._next += 1
            sub = Submission(service, url, time.monotonic(), sid, body)
            self.submissions.append(sub)
            return sub

    def _refused(self, service: str) -> Response | None:
        status = self._reject.pop(service, 0)
        if status:
            return json_response({"error": {"code": status, "message": "lab: refused on demand"}}, status)
        return None

    # --- HTTP ---------------------------------------------------------------------------------

    def app(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/v1/"):
            return self._webrisk(request)
        if path.startswith("/api/v3/"):
            return self._netcraft(request)
        if path.rstrip("/") == "/phish":
            return self._apwg(request)
        return json_response({"error": "not found"}, 404)

    def _webrisk(self, request: Request) -> Response:
        if not request.query.get("key"):
            return json_response({"error": {"code": 403, "status": "PERMISSION_DENIED",
                                            "message": "The request is missing a valid API key."}}, 403)
        if request.method == "POST" and request.path.endswith("/uris:submit"):
            refused = self._refused("webrisk")
            if refused:
                return refused
            body = request.json() or {}
            uri = str((body.get("submission") or {}).get("uri") or "")
            if not uri:
                return json_response({"error": {"code": 400, "status": "INVALID_ARGUMENT",
                                                "message": "submission.uri is required"}}, 400)
            project = request.path.split("/")[3]
            sub = self._submit("webrisk", uri, body)
            return json_response({"name": f"projects/{project}/operations/{sub.id}",
                                  "metadata": {"@type": "type.googleapis.com/google.cloud.webrisk.v1.SubmitUriMetadata",
                                               "state": "RUNNING",
                                               "createTime": datetime.now(UTC).isoformat()}})
        if request.method == "GET" and request.path == "/v1/uris:search":
            uri = request.query.get("uri", "")
            self.lookups.append(("webrisk", uri))
            if self.listed("webrisk", uri):
                expire = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
                return json_response({"threat": {"threatTypes": ["SOCIAL_ENGINEERING"], "expireTime": expire}})
            return json_response({})
        return json_response({"error": {"code": 404, "message": "not found"}}, 404)

    def _netcraft(self, request: Request) -> Response:
        parts = [p for p in request.path.split("/") if p]
        if request.method == "POST" and parts == ["api", "v3", "report", "urls"]:
            refused = self._refused("netcraft")
            if refused:
                return refused
            body = request.json() or {}
            urls = [str(u.get("url") or "") for u in body.get("urls") or [] if isinstance(u, dict)]
            if not body.get("email") or not urls:
                return json_response({"message": "email and urls are required"}, 400)
            sub = self._submit("netcraft", urls[0], body)
            for extra in urls[1:]:
                with self._lock:
                    self.submissions.append(Submission("netcraft", extra, sub.at, sub.id, body))
            return json_response({"message": "Successfully reported", "uuid": sub.id})
        if request.method == "GET" and parts[:3] == ["api", "v3", "submission"] and len(parts) >= 4:
            with self._lock:
                subs = [s for s in self.submissions if s.service == "netcraft" and s.id == parts[3]]
            if not subs:
                return json_response({"message": "submission not found"}, 404)
            states = [("malicious" if self.listed("netcraft", s.url) else "processing", s.url) for s in subs]
            self.lookups.append(("netcraft", parts[3]))
            if parts[4:] == ["urls"]:
                return json_response({"urls": [{"url": u, "url_state": st} for st, u in states]})
            done = all(st == "malicious" for st, _ in states)
            return json_response({"state": "malicious" if done else "processing", "uuid": parts[3]})
        return json_response({"message": "not found"}, 404)

    def _apwg(self, request: Request) -> Response:
        if not request.headers.get("Authorization"):
            return json_response({"message": "Unauthorized"}, 401)
        if request.method == "POST":
            refused = self._refused("apwg")
            if refused:
                return refused
            body = request.json() or {}
            if not body.get("url"):
                return json_response({"message": "url is required"}, 400)
            sub = self._submit("apwg", str(body["url"]), body)
            return json_response({"id": int(sub.id)}, 201)
        url = request.query.get("url", "")
        self.lookups.append(("apwg", url))
        with self._lock:
            subs = [s for s in self.submissions if s.service == "apwg" and s.url == url]
        return json_response({"data": [{"id": int(s.id), "url": s.url, "brand": s.body.get("brand", ""),
                                        "status": "active" if self.listed("apwg", url) else "pending"}
                                       for s in subs[:1]]})
