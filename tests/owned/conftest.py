"""Fixtures for the owned-domain tests: a Context whose DNS, HTTP proxy, RDAP and SMTP are the lab's."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from watcher.context import Context
from watcher.core.models import Finding, FindingStatus


def lab_sections(dns: Any = None, web: Any = None, rdap: Any = None, smtp: Any = None, whois: Any = None) -> dict:
    s: dict[str, dict] = {}
    if dns is not None:
        s["dns"] = {"nameservers": [dns.host], "port": dns.port, "timeout": 1.0, "retries": 0}
    if web is not None:
        s["crawl"] = {"proxy": web.proxy_url, "ca_file": web.ca_file}
    if rdap is not None:
        boot = Path(tempfile.mkdtemp()) / "rdap-bootstrap.json"
        boot.write_text(json.dumps(rdap.bootstrap()))
        s["rdap"] = {"bootstrap_file": str(boot), "allow_http": True, "cache_hours": 0, "requests_per_minute": 60000}
        if whois is not None:
            s["rdap"]["whois_servers"] = {"jp": f"{whois.host}:{whois.port}"}
    if smtp is not None:
        s["smtp"] = {"host": smtp.host, "port": smtp.port, "starttls": False, "from_address": "omamori@hoshizora-sec.co.jp"}
    return s


@pytest.fixture
def make_ctx(make_synced_ctx: Callable[..., Context]) -> Callable[..., Context]:
    """Factory: make_ctx(dns=lab_dns, web=lab_web, ..., **extra_sections) -> a Context with brands synced."""
    def make(*, dns: Any = None, web: Any = None, rdap: Any = None, smtp: Any = None, whois: Any = None,
             **extra: dict) -> Context:
        # A lab server object is turned into its section; a dict is taken as the section itself.
        given = {"dns": dns, "web": web, "rdap": rdap, "smtp": smtp, "whois": whois}
        sections = lab_sections(**{k: None if isinstance(v, dict) else v for k, v in given.items()})
        extra = {**{("crawl" if k == "web" else k): v for k, v in given.items() if isinstance(v, dict)}, **extra}
        for k, v in extra.items():
            sections[k] = {**sections.get(k, {}), **v}
        return make_synced_ctx(**sections)

    return make


def finding(ctx: Context, kind: str, subject: str) -> Finding | None:
    with Session(ctx.engine) as s:
        return s.exec(select(Finding).where(Finding.kind == kind, Finding.subject == subject)).first()


def is_open(ctx: Context, kind: str, subject: str) -> bool:
    f = finding(ctx, kind, subject)
    return f is not None and f.status == FindingStatus.OPEN


def is_resolved(ctx: Context, kind: str, subject: str) -> bool:
    f = finding(ctx, kind, subject)
    return f is not None and f.status == FindingStatus.RESOLVED
