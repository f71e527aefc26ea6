"""A MISP instance's REST API, as much of it as a client that shares events needs (the ISAC's MISP).

What PyMISP asks when it connects, and the events endpoint:

- ``GET /servers/getPyMISPVersion.json``, ``GET /servers/getVersion``: versions.
- ``GET /users/view/me``: the key's user, role and settings (``{"User", "Role", "UserSetting"}``).
- ``POST /events/add`` (``{"Event": {...}}`` or the bare event): stored with an id and uuid; answered
  with ``{"Event": ...}`` as MISP does. An event whose uuid is already stored is refused (403), as
  MISP refuses a duplicate.
- ``GET /events/view/<id>``, ``GET /events/index``: what was shared, for tests and the demo.

Every call needs ``Authorization: <key>`` (the key given at start); a wrong key gets MISP's 403.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any

from lab.net import LOOPBACK, HTTPService, Request, Response, json_response

LAB_MISP_KEY = "labmispkey0000000000000000000000000000000"  # MISP keys are 40 characters
VERSION = "2.5.0"


class LabMISP(HTTPService):
    def __init__(self, host: str = LOOPBACK, port: int = 0, key: str = LAB_MISP_KEY) -> None:
        super().__init__(host, port)
        self.key = key
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._events]

    def app(self, request: Request) -> Response:
        if request.headers.get("Authorization", "") != self.key:
            return json_response({"name": "Authentication failed. Please make sure you pass the API key of an "
                                  "API enabled user along in the Authorization header.", "message": "Forbidden",
                                  "url": request.path}, 403)
        path = request.path.rstrip("/")
        if request.method == "GET" and path == "/servers/getPyMISPVersion.json":
            return json_response({"version": VERSION})
        if request.method == "GET" and path == "/servers/getVersion":
            return json_response({"version": VERSION, "pymisp_recommended_version": VERSION, "perm_sync": True,
                                  "perm_sighting": True, "perm_galaxy_editor": False, "request_encoding": ["gzip"]})
        if request.method == "GET" and path in ("/users/view/me", "/users/view/me.json"):
            return json_response({
                "User": {"id": "1", "org_id": "1", "email": "sharing@lab-isac.test", "role_id": "3",
                         "autoalert": False, "disabled": False},
                "Role": {"id": "3", "name": "User", "perm_add": True, "perm_modify": True, "perm_publish": False,
                         "perm_auth": True, "perm_tagger": True},
                "UserSetting": {}, "Organisation": {"id": "1", "name": "Lab ISAC member"}})
        if request.method == "POST" and path == "/events/add":
            return self._add(request)
        if request.method == "GET" and path.startswith("/events/view/"):
            ref = path.rsplit("/", 1)[-1]
            for e in self.events():
                if ref in (e["id"], e["uuid"]):
                    return json_response({"Event": e})
            return json_response({"name": "Invalid event", "message": "Invalid event", "url": path}, 404)
        if request.method in ("GET", "POST") and path in ("/events/index", "/events"):
            return json_response([{k: v for k, v in e.items() if k != "Attribute"} for e in self.events()])
        return json_response({"name": "Not Found", "message": "Not Found", "url": path}, 404)

    def _add(self, request: Request) -> Response:
        try:
            body = request.json() or {}
        except ValueError:
            return json_response({"name": "Invalid JSON", "message": "Invalid JSON", "url": request.path}, 400)
        event = dict(body.get("Event", body)) if isinstance(body, dict) else {}
        if not event.get("info"):
            return json_response({"saved": False, "name": "Could not add Event", "message": "Could not add Event",
                                  "url": "/events/add", "errors": {"Event": {"info": ["Info cannot be empty."]}}},
                                 403)
        with self._lock:
            ev_uuid = str(event.get("uuid") or uuid.uuid4())
            if any(e["uuid"] == ev_uuid for e in self._events):
                return json_response({"saved": False, "name": "Event already exists", "message": "Event already "
                                      "exists", "url": "/events/add", "errors": {"Event": "Event already exists"}},
                                     403)
            stored = {**event, "id": str(len(self._events) + 1), "uuid": ev_uuid, "org_id": "1", "orgc_id": "1",
                      "timestamp": str(int(dt.datetime.now(dt.UTC).timestamp())),
                      "Attribute": [{**a, "id": str(i + 1), "uuid": a.get("uuid") or str(uuid.uuid4())}
                                    for i, a in enumerate(event.get("Attribute") or [])]}
            self._events.append(stored)
        return json_response({"Event": stored})
