"""The DNS client: dnspython's asyncio resolver, nameservers and port from config.

Failures are data: every lookup returns a ``DnsAnswer`` with a status (ok, nxdomain, nodata,
servfail, timeout, error) instead of raising, so one broken zone never stops a batch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

from watcher.config import DnsSettings

PROFILE_TYPES = ("A", "AAAA", "CNAME", "MX", "NS")


@dataclass
class DnsAnswer:
    name: str
    rdtype: str
    status: str  # ok, nxdomain, nodata, servfail, timeout, error
    values: list[str] = field(default_factory=list)
    ttl: int | None = None
    error: str = ""


@dataclass
class DnsProfile:
    name: str
    records: dict[str, list[str]] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return any(self.records.values()) or any(s == "nodata" for s in self.statuses.values())

    @property
    def nxdomain(self) -> bool:
        return any(s == "nxdomain" for s in self.statuses.values())

    @property
    def addresses(self) -> list[str]:
        return self.records.get("A", []) + self.records.get("AAAA", [])

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "records": self.records, "statuses": self.statuses}


class RateLimiter:
    """A token bucket shared by every query of one resolver."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.updated = time.monotonic()
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.rate, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


class Resolver:
    def __init__(self, settings: DnsSettings) -> None:
        self.settings = settings
        self._limiters: dict[int, RateLimiter] = {}
        self._semaphores: dict[int, asyncio.Semaphore] = {}

    def _resolver(self) -> dns.asyncresolver.Resolver:
        s = self.settings
        if s.nameservers:
            r = dns.asyncresolver.Resolver(configure=False)
            r.nameservers = [dns.nameserver.Do53Nameserver(ns, port=s.port) for ns in s.nameservers]
        else:
            r = dns.asyncresolver.Resolver()
        r.timeout = s.timeout
        r.lifetime = s.timeout * (s.retries + 1)
        r.retry_servfail = False
        return r

    def _loop_state(self) -> tuple[RateLimiter, asyncio.Semaphore]:
        # asyncio primitives belong to one event loop; the CLI and the jobs each run their own.
        key = id(asyncio.get_running_loop())
        if key not in self._limiters:
            self._limiters = {key: RateLimiter(self.settings.rate_limit)}
            self._semaphores = {key: asyncio.Semaphore(self.settings.concurrency)}
        return self._limiters[key], self._semaphores[key]

    async def lookup(self, name: str, rdtype: str) -> DnsAnswer:
        limiter, sem = self._loop_state()
        resolver = self._resolver()
        last_error = ""
        async with sem:
            for _attempt in range(self.settings.retries + 1):
                await limiter.wait()
                try:
                    ans = await resolver.resolve(name, rdtype, tcp=self.settings.use_tcp,
                                                 raise_on_no_answer=False, lifetime=self.settings.timeout)
                except dns.resolver.NXDOMAIN:
                    return DnsAnswer(name, rdtype, "nxdomain")
                except dns.resolver.NoNameservers as e:
                    return DnsAnswer(name, rdtype, "servfail", error=str(e)[:300])
                except dns.exception.Timeout as e:
                    last_error = str(e)[:300]
                    continue
                except dns.exception.DNSException as e:
                    return DnsAnswer(name, rdtype, "error", error=f"{type(e).__name__}: {e}"[:300])
                if ans.rrset is None:
                    return DnsAnswer(name, rdtype, "nodata")
                want = dns.rdatatype.from_text(rdtype)
                values = [_text(rr) for rrset in ans.response.answer if rrset.rdtype == want for rr in rrset]
                return DnsAnswer(name, rdtype, "ok" if values else "nodata", values, ans.rrset.ttl)
        return DnsAnswer(name, rdtype, "timeout", error=last_error)

    async def profile(self, name: str, types: Iterable[str] = PROFILE_TYPES) -> DnsProfile:
        answers = await asyncio.gather(*(self.lookup(name, t) for t in types))
        prof = DnsProfile(name)
        for a in answers:
            prof.statuses[a.rdtype] = a.status
            if a.values:
                prof.records[a.rdtype] = a.values
        return prof

    def profile_sync(self, name: str, types: Iterable[str] = PROFILE_TYPES) -> DnsProfile:
        return asyncio.run(self.profile(name, types))


def _text(rr: Any) -> str:
    t = rr.to_text()
    if rr.rdtype == dns.rdatatype.TXT:
        return "".join(s.decode("utf-8", "replace") for s in rr.strings)
    return t.rstrip(".") if rr.rdtype in (dns.rdatatype.CNAME, dns.rdatatype.NS, dns.rdatatype.PTR) else t
