"""Browser blocklists: submit a phishing URL, then ask whether it is listed. One client per service.

- Google Web Risk: the Submission API (``projects.uris.submit``, a long-running operation; only
  allow-listed projects may use it) and ``uris.search`` on the ``SOCIAL_ENGINEERING`` list;
  API key in ``blocklists.webrisk_api_key``.
- Netcraft: the report API v3 (``POST /api/v3/report/urls``, then ``GET /api/v3/submission/<uuid>/urls``
  whose ``url_state`` says ``malicious`` once classified); the reporter address is required, a key optional.
- APWG eCrime eXchange (members): ``POST /phish`` with the member token, ``GET /phish?url=``.

Each call answers an ``Answer`` (never raises for the service's refusal or a network failure): what
the service said is kept whole in ``data``. The API calls go straight to the service (not through
the crawler's egress proxy: these are the firm's own authenticated calls, like SMTP).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from watcher.clients.http import make_client
from watcher.core.config import Settings


@dataclass
class Answer:
    ok: bool  # the service accepted the call
    external_id: str = ""  # the submission's id at the service
    listed: bool = False  # the lookup lists the URL
    status: int = 0  # HTTP status
    data: dict[str, Any] = field(default_factory=dict)
    error: str = ""


def _call(settings: Settings, method: str, url: str, *, timeout: float,
          **kw: Any) -> tuple[int, dict[str, Any], str]:
    try:
        # The service's API is a host named in config: reached directly by the guarded client, judged
        # as an endpoint (never a metadata or link-local address), no redirect followed.
        with make_client(settings, timeout=timeout, follow_redirects=False,
                         endpoints=(httpx.URL(url).host,)) as client:
            r = client.request(method, url, **kw)
    except (httpx.HTTPError, httpx.InvalidURL) as e:
        return 0, {}, f"{type(e).__name__}: {e}"[:300]
    try:
        data = r.json()
    except ValueError:
        data = {"text": r.text[:2000]}
    data = data if isinstance(data, dict) else {"answer": data}
    error = "" if r.is_success else f"HTTP {r.status_code}: {str(data)[:300]}"
    return r.status_code, data, error


class _Service:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.conf = settings.blocklists

    def _call(self, method: str, url: str, **kw: Any) -> tuple[int, dict[str, Any], str]:
        return _call(self.settings, method, url, timeout=self.conf.timeout, **kw)


class WebRisk(_Service):
    name = "webrisk"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.base = self.conf.webrisk_url.rstrip("/")

    @property
    def enabled(self) -> bool:
        return bool(self.conf.webrisk_api_key.get_secret_value() and self.conf.webrisk_project)

    def _key(self) -> dict[str, str]:
        return {"key": self.conf.webrisk_api_key.get_secret_value()}

    def submit(self, url: str, *, brand: str, comment: str) -> Answer:
        body = {"submission": {"uri": url},
                "threatInfo": {"abuseType": "SOCIAL_ENGINEERING", "threatConfidence": {"level": "HIGH"},
                               "threatJustification": {"labels": ["MANUAL_VERIFICATION"],
                                                       "comments": [comment[:500]]}},
                "threatDiscovery": {"platform": "PLATFORM_UNSPECIFIED", "regionCodes": ["JP"]}}
        status, data, error = self._call("POST", f"{self.base}/v1/projects/{self.conf.webrisk_project}/uris:submit",
                                         params=self._key(), json=body)
        return Answer(not error, str(data.get("name") or ""), status=status, data=data, error=error)

    def lookup(self, url: str, external_id: str) -> Answer:
        status, data, error = self._call("GET", f"{self.base}/v1/uris:search",
                                         params={**self._key(), "uri": url, "threatTypes": "SOCIAL_ENGINEERING"})
        found = data.get("threat")
        threat: dict[str, Any] = found if isinstance(found, dict) else {}
        return Answer(not error, external_id, "SOCIAL_ENGINEERING" in (threat.get("threatTypes") or []),
                      status, data, error)


class Netcraft(_Service):
    name = "netcraft"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.base = self.conf.netcraft_url.rstrip("/")

    @property
    def enabled(self) -> bool:
        return bool(self.conf.netcraft_email)

    def _headers(self) -> dict[str, str]:
        key = self.conf.netcraft_api_key.get_secret_value()
        return {"Authorization": f"Bearer {key}"} if key else {}

    def submit(self, url: str, *, brand: str, comment: str) -> Answer:
        body = {"email": self.conf.netcraft_email, "reason": comment[:1000], "urls": [{"url": url, "country": "JP"}]}
        status, data, error = self._call("POST", f"{self.base}/api/v3/report/urls", json=body, headers=self._headers())
        return Answer(not error and bool(data.get("uuid")), str(data.get("uuid") or ""), status=status, data=data,
                      error=error or ("" if data.get("uuid") else "no submission uuid in the answer"))

    def lookup(self, url: str, external_id: str) -> Answer:
        status, data, error = self._call("GET", f"{self.base}/api/v3/submission/{external_id}/urls",
                                         headers=self._headers())
        states = [u for u in data.get("urls") or [] if isinstance(u, dict) and u.get("url") == url]
        listed = any(str(u.get("url_state", "")).lower() in ("malicious", "suspicious") for u in states)
        return Answer(not error, external_id, listed, status, data, error)


class Apwg(_Service):
    name = "apwg"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.base = self.conf.apwg_url.rstrip("/")

    @property
    def enabled(self) -> bool:
        return self.conf.apwg_member and bool(self.conf.apwg_token.get_secret_value())

    def _headers(self) -> dict[str, str]:
        return {"Authorization": self.conf.apwg_token.get_secret_value()}

    def submit(self, url: str, *, brand: str, comment: str) -> Answer:
        body = {"url": url, "brand": brand, "confidence_level": 90}
        status, data, error = self._call("POST", f"{self.base}/phish", json=body, headers=self._headers())
        return Answer(not error, str(data.get("id") or ""), status=status, data=data, error=error)

    def lookup(self, url: str, external_id: str) -> Answer:
        status, data, error = self._call("GET", f"{self.base}/phish", params={"url": url}, headers=self._headers())
        rows = [r for r in data.get("data") or [] if isinstance(r, dict)]
        return Answer(not error, external_id, any(r.get("status") == "active" for r in rows), status, data, error)


Service = WebRisk | Netcraft | Apwg


def services(settings: Settings) -> list[Service]:
    """The services this firm uses (those with their key or membership configured)."""
    return [s for s in (WebRisk(settings), Netcraft(settings), Apwg(settings)) if s.enabled]
