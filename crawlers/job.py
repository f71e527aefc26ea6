"""The crawler's input: one job file (limits, browser, proxy) and target lines (JSON).

The watcher writes these; the crawler reads nothing else (no omamori config, no database), so it can
run in its own process, as another user, or on another host.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from crawlers.netguard import Policy

# Chromium flags for an offline, quiet, headless browser (see ENVIRONMENT.md §4).
FLAGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@dataclass
class Job:
    out_dir: str
    executable: str = "/usr/bin/chromium"
    sandbox: str = "auto"  # auto: on unless the process is root
    lab_mode: bool = False
    proxy: str = ""
    allow_addresses: list[str] = field(default_factory=list)  # guard exceptions (crawl.allow_addresses)
    nameservers: list[str] = field(default_factory=list)  # "host:port" of the watcher's resolvers
    dns_timeout: float = 5.0
    ca_file: str = ""
    ignore_https_errors: bool = False
    user_agents: dict[str, str] = field(default_factory=dict)
    viewport: tuple[int, int] = (1280, 800)
    page_timeout: float = 20.0
    settle: float = 1.5
    max_bytes: int = 8 * 1024 * 1024
    max_redirects: int = 8
    max_page_height: int = 6000
    concurrency: int = 2
    max_text: int = 20000
    max_links: int = 300
    use_browser: bool = True

    @classmethod
    def load(cls, path: str | Path) -> Job:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        known = {f.name for f in fields(cls)}
        job = cls(**{k: v for k, v in raw.items() if k in known})
        job.viewport = (int(job.viewport[0]), int(job.viewport[1]))
        return job

    def policy(self) -> Policy:
        return Policy.from_job(self.lab_mode, self.proxy, self.allow_addresses, self.nameservers, self.dns_timeout)

    def dump(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(asdict(self)), encoding="utf-8")


@dataclass
class Target:
    id: str
    url: str
    # The watcher's DNS answers for the host (A and AAAA): the guard decides on these.
    addresses: list[str] = field(default_factory=list)
    profile: str = "desktop"

    @classmethod
    def parse(cls, line: str) -> Target:
        raw: dict[str, Any] = json.loads(line)
        return cls(id=str(raw.get("id", raw.get("url", ""))), url=str(raw["url"]),
                   addresses=[str(a) for a in raw.get("addresses") or []], profile=str(raw.get("profile", "desktop")))


MOBILE_VIEWPORT = {"width": 390, "height": 844}


def context_options(job: Job) -> dict[str, dict[str, Any]]:
    """Playwright browser-context options per profile (viewport, user agent, TLS, locale)."""
    vw, vh = job.viewport
    common: dict[str, Any] = {"ignore_https_errors": job.ignore_https_errors, "locale": "ja-JP",
                              "timezone_id": "Asia/Tokyo", "service_workers": "block", "accept_downloads": False,
                              "java_script_enabled": True}
    contexts: dict[str, dict[str, Any]] = {
        "desktop": {**common, "viewport": {"width": vw, "height": vh}},
        "mobile": {**common, "viewport": MOBILE_VIEWPORT, "is_mobile": True, "has_touch": True},
    }
    for name, c in contexts.items():
        if job.user_agents.get(name):
            c["user_agent"] = job.user_agents[name]
    return contexts
