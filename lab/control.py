"""The control API: a small HTTP JSON interface to a running World (used by `python -m lab event`).

GET  /endpoints          every server's address (World.endpoints())
GET  /state              registrations, sites, CT size, abuse-desk reports, timeline, pending events
GET  /actions            the action names
POST /events             {"action": "register_lookalike", "name": "...", ...} -> {"ok": true, "result": ...}
POST /fire               apply every pending timed event now
"""

from __future__ import annotations

from typing import Any, Protocol

from lab.net import LOOPBACK, HTTPService, Request, Response, json_response


class Controlled(Protocol):
    """What the control API asks of the world it drives (``lab.world.World`` is one)."""

    def endpoints(self) -> dict[str, Any]: ...
    def state(self) -> dict[str, Any]: ...
    def actions(self) -> list[str]: ...
    def fire_pending(self) -> int: ...
    def apply(self, action: str, **kwargs: Any) -> Any: ...
    def integrate_ct(self) -> None: ...


class ControlAPI(HTTPService):
    def __init__(self, world: Controlled, host: str = LOOPBACK, port: int = 0) -> None:
        super().__init__(host, port)
        self.world = world

    def app(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if request.method == "GET" and path == "/endpoints":
            return json_response(self.world.endpoints())
        if request.method == "GET" and path == "/state":
            return json_response(self.world.state())
        if request.method == "GET" and path == "/actions":
            return json_response(self.world.actions())
        if request.method == "POST" and path == "/fire":
            return json_response({"ok": True, "fired": self.world.fire_pending()})
        if request.method == "POST" and path == "/events":
            try:
                body: dict[str, Any] = request.json() or {}
                action = body.pop("action")
                result = self.world.apply(action, **body)
                if action in ("issue_certificate", "register_lookalike", "noise"):
                    self.world.integrate_ct()  # the caller sees the entry in the tree head at once
            except (KeyError, TypeError, ValueError) as exc:
                return json_response({"ok": False, "error": repr(exc)}, 400)
            return json_response({"ok": True, "result": result})
        return json_response({"error": "not found"}, 404)
