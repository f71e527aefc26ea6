"""The DNS client: asynchronous, nameservers and port from config.

Queries are dnspython messages over a few UDP sockets shared per event loop (see ``_UdpPool``), with
dnspython's asyncio TCP for truncated answers, ``use_tcp`` and IPv6 nameservers.

Failures are data: every lookup returns a ``DnsAnswer`` with a status (ok, nxdomain, nodata,
servfail, timeout, error) instead of raising, so one broken zone never stops a batch.

``profile_many`` resolves thousands of names at once (the permutation scan): a concurrency limit
and a token-bucket rate limit from config, retries on timeout, and A first: most permutations do
not exist, and one NXDOMAIN answers for every type, so a missing name costs one query, not five.
``is_wildcard`` asks for random labels under a zone, so a wildcard zone or TLD is seen once and its
synthesised answers are not mistaken for thousands of registered names.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver

from watcher.core.config import DnsSettings

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
        """A, then AAAA records that are IP addresses (a stored profile may hold anything)."""
        out = []
        for v in self.records.get("A", []) + self.records.get("AAAA", []):
            with contextlib.suppress(ValueError):
                out.append(str(ipaddress.ip_address(str(v))))
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "records": self.records, "statuses": self.statuses}

    @classmethod
    def from_dict(cls, data: Any) -> DnsProfile:
        """Back from ``as_dict`` (as a Snapshot or an OwnedDomain keeps it); anything else is empty."""
        if not isinstance(data, dict):
            return cls(name="")
        raw_records, raw_statuses = data.get("records"), data.get("statuses")
        records: dict[Any, Any] = raw_records if isinstance(raw_records, dict) else {}
        statuses: dict[Any, Any] = raw_statuses if isinstance(raw_statuses, dict) else {}
        return cls(name=str(data.get("name") or ""),
                   records={str(k): [str(x) for x in v] for k, v in records.items() if isinstance(v, list)},
                   statuses={str(k): str(v) for k, v in statuses.items()})


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


class _UdpPool(asyncio.DatagramProtocol):
    """A few UDP sockets shared by every query of one event loop, answers matched by id + question.

    dnspython's resolver opens, binds and closes a socket per query; at thousands of names that
    was most of the scan's CPU. Here a query is one sendto and one parse. Several sockets (random
    source ports) so an off-path spoofer still has to guess the port as well as the 16-bit id.
    """

    def __init__(self) -> None:
        # query id -> [(question section bytes, lowercased), future of the raw answer]
        self.pending: dict[int, list[tuple[bytes, asyncio.Future[bytes]]]] = {}
        self.transports: list[asyncio.DatagramTransport] = []
        self.sockets: list[socket.socket] = []

    @classmethod
    async def open(cls, sockets: int = 4) -> _UdpPool:
        pool = cls()
        loop = asyncio.get_running_loop()
        for _ in range(sockets):
            # Our own sockets, so close() works even after the loop that wraps them has closed.
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("0.0.0.0", 0))
            sock.setblocking(False)
            pool.sockets.append(sock)
            transport, _proto = await loop.create_datagram_endpoint(lambda: pool, sock=sock)
            pool.transports.append(transport)
        return pool

    def datagram_received(self, data: bytes, addr: Any) -> None:
        # Matched on id and the echoed question bytes, without parsing: most answers of a scan are
        # NXDOMAIN and need nothing but the rcode, which the caller reads from the header.
        if len(data) < 12:
            return
        waiting = self.pending.get(int.from_bytes(data[:2], "big"))
        for question, fut in waiting or ():
            if data[12:12 + len(question)].lower() == question and not fut.done():
                fut.set_result(data)
                return

    def error_received(self, exc: Exception) -> None:  # ICMP unreachable etc.: queries time out
        pass

    async def query(self, question: bytes, where: tuple[str, int], timeout: float) -> bytes:
        """Send one query (header made here, ``question`` = QNAME QTYPE QCLASS) and wait for its answer."""
        qid = secrets.randbelow(65536)
        key = question.lower()
        fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        entry = (key, fut)
        self.pending.setdefault(qid, []).append(entry)
        try:
            header = qid.to_bytes(2, "big") + b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"  # RD, one question
            self.transports[secrets.randbelow(len(self.transports))].sendto(header + question, where)
            return await asyncio.wait_for(fut, timeout)
        finally:
            waiting = self.pending.get(qid)
            if waiting is not None:
                waiting.remove(entry)
                if not waiting:
                    del self.pending[qid]

    def close(self) -> None:
        for t in self.transports:
            try:
                t.close()
            except RuntimeError:  # its loop is already closed: the sockets are closed below
                pass
        for sock in self.sockets:
            sock.close()
        self.transports, self.sockets = [], []


class Resolver:
    def __init__(self, settings: DnsSettings) -> None:
        self.settings = settings
        self._limiters: dict[int, RateLimiter] = {}
        self._semaphores: dict[int, asyncio.Semaphore] = {}
        self._pools: dict[int, _UdpPool] = {}
        self._pool_lock: dict[int, asyncio.Lock] = {}
        self._wildcards: dict[str, list[str] | None] = {}
        self._servers: list[tuple[str, int]] | None = None
        self._loops: dict[int, asyncio.AbstractEventLoop] = {}
        self._state_lock = threading.Lock()

    def servers(self) -> list[tuple[str, int]]:
        """(address, port) of the configured nameservers, else the system's (/etc/resolv.conf)."""
        if self._servers is None:
            s = self.settings
            if s.nameservers:
                self._servers = [(ns, s.port) for ns in s.nameservers]
            else:
                try:
                    sys_ns = dns.resolver.Resolver().nameservers
                except dns.exception.DNSException:
                    sys_ns = []
                self._servers = [(str(ns), 53) for ns in sys_ns] or [("127.0.0.1", 53)]
        return self._servers

    def _loop_state(self) -> tuple[RateLimiter, asyncio.Semaphore]:
        # asyncio primitives belong to one event loop, and the scheduler runs jobs in several threads,
        # each with its own loop at the same time: keep state per live loop, drop that of closed ones.
        loop = asyncio.get_running_loop()
        key = id(loop)
        with self._state_lock:
            if key not in self._limiters:
                for old_key in [k for k, lp in self._loops.items() if lp.is_closed()]:
                    pool = self._pools.pop(old_key, None)
                    if pool is not None:
                        pool.close()
                    for d in (self._loops, self._limiters, self._semaphores, self._pool_lock):
                        d.pop(old_key, None)
                self._loops[key] = loop  # held, so its id cannot be reused while we key by it
                self._limiters[key] = RateLimiter(self.settings.rate_limit)
                self._semaphores[key] = asyncio.Semaphore(self.settings.concurrency)
                self._pool_lock[key] = asyncio.Lock()
            return self._limiters[key], self._semaphores[key]

    async def _pool(self) -> _UdpPool:
        key = id(asyncio.get_running_loop())
        async with self._pool_lock[key]:
            if key not in self._pools:
                self._pools[key] = await _UdpPool.open()
        return self._pools[key]

    async def _exchange(self, qname: dns.name.Name, want: dns.rdatatype.RdataType,
                        where: tuple[str, int]) -> bytes:
        timeout = self.settings.timeout
        if ":" in where[0] and not self.settings.use_tcp:  # an IPv6 nameserver: dnspython's own UDP
            request = dns.message.make_query(qname, want)
            request.flags |= dns.flags.RD
            answer = await dns.asyncquery.udp(request, where[0], timeout=timeout, port=where[1])
            if not answer.flags & dns.flags.TC:
                return answer.to_wire()
        elif not self.settings.use_tcp:
            name_wire = qname.to_wire()
            assert name_wire is not None  # without a file, to_wire returns the bytes
            question = name_wire + want.to_bytes(2, "big") + b"\x00\x01"  # class IN
            reply = await (await self._pool()).query(question, where, timeout)
            if not reply[2] & 0x02:  # TC clear: the whole answer is here
                return reply
        # TCP when configured, or when the UDP answer was truncated
        request = dns.message.make_query(qname, want)
        request.flags |= dns.flags.RD
        answer = await dns.asyncquery.tcp(request, where[0], timeout=timeout, port=where[1])
        return answer.to_wire()

    async def lookup(self, name: str, rdtype: str) -> DnsAnswer:
        limiter, sem = self._loop_state()
        servers = self.servers()
        last_error = ""
        try:
            qname = dns.name.from_text(name)
            want = dns.rdatatype.from_text(rdtype)
        except (dns.exception.DNSException, ValueError) as e:
            return DnsAnswer(name, rdtype, "error", error=f"{type(e).__name__}: {e}"[:300])
        async with sem:
            for attempt in range(self.settings.retries + 1):
                await limiter.wait()
                try:
                    wire = await self._exchange(qname, want, servers[attempt % len(servers)])
                except (TimeoutError, dns.exception.Timeout) as e:
                    last_error = f"no answer within {self.settings.timeout}s" + (f": {e}" if str(e) else "")
                    continue
                except (OSError, dns.exception.DNSException) as e:
                    last_error = f"{type(e).__name__}: {e}"[:300]
                    continue
                rcode = wire[3] & 0x0F
                if rcode == dns.rcode.NXDOMAIN:
                    return DnsAnswer(name, rdtype, "nxdomain")
                if rcode != dns.rcode.NOERROR:
                    return DnsAnswer(name, rdtype, "servfail", error=dns.rcode.Rcode.to_text(rcode))
                try:
                    reply = dns.message.from_wire(wire)
                except dns.exception.DNSException as e:  # a mangled answer: try again (another server)
                    last_error = f"unparsable answer: {type(e).__name__}: {e}"[:300]
                    continue
                return _answer(name, rdtype, qname, want, reply)
        status = "timeout" if last_error.startswith("no answer") else "error"
        return DnsAnswer(name, rdtype, status, error=last_error[:300])

    async def profile(self, name: str, types: Iterable[str] = PROFILE_TYPES) -> DnsProfile:
        answers = await asyncio.gather(*(self.lookup(name, t) for t in types))
        prof = DnsProfile(name)
        for a in answers:
            prof.statuses[a.rdtype] = a.status
            if a.values:
                prof.records[a.rdtype] = a.values
        return prof

    def profile_sync(self, name: str, types: Iterable[str] = PROFILE_TYPES) -> DnsProfile:
        return self.run(self.profile(name, types))

    def run(self, coro: Any) -> Any:
        """Run a coroutine on a fresh loop and close this loop's sockets before the loop goes."""

        async def wrapped() -> Any:
            try:
                return await coro
            finally:
                pool = self._pools.pop(id(asyncio.get_running_loop()), None)
                if pool is not None:
                    pool.close()

        return asyncio.run(wrapped())

    async def profile_lazy(self, name: str, types: Iterable[str] = PROFILE_TYPES) -> DnsProfile:
        """Like ``profile`` but asks A first and stops at NXDOMAIN (it holds for every type)."""
        types = list(types)
        first = "A" if "A" in types else types[0]
        a = await self.lookup(name, first)
        prof = DnsProfile(name)
        prof.statuses[first] = a.status
        if a.values:
            prof.records[first] = a.values
        if a.status == "nxdomain":
            for t in types:
                prof.statuses[t] = "nxdomain"
            return prof
        rest = await asyncio.gather(*(self.lookup(name, t) for t in types if t != first))
        for ans in rest:
            prof.statuses[ans.rdtype] = ans.status
            if ans.values:
                prof.records[ans.rdtype] = ans.values
        return prof

    async def aprofile_many(self, names: Iterable[str], types: Iterable[str] = PROFILE_TYPES,
                            progress: Callable[[int, int], None] | None = None) -> dict[str, DnsProfile]:
        names = list(dict.fromkeys(names))
        types = list(types)
        out: dict[str, DnsProfile] = {}
        done = 0
        # Bounded fan-out: a task per name would hold thousands of coroutines for nothing; the
        # lookup semaphore is the real limit, this keeps memory flat for very long lists.
        window = asyncio.Semaphore(max(1, self.settings.concurrency) * 2)

        async def one(name: str) -> None:
            nonlocal done
            async with window:
                try:
                    out[name] = await self.profile_lazy(name, types)
                except Exception as e:  # never lose the batch for one name
                    prof = DnsProfile(name)
                    for t in types:
                        prof.statuses[t] = "error"
                    prof.records = {}
                    prof.statuses["error"] = f"{type(e).__name__}: {e}"[:200]
                    out[name] = prof
            done += 1
            if progress is not None:
                progress(done, len(names))

        await asyncio.gather(*(one(n) for n in names))
        return {n: out[n] for n in names}

    def profile_many(self, names: Iterable[str], types: Iterable[str] = PROFILE_TYPES,
                     progress: Callable[[int, int], None] | None = None) -> dict[str, DnsProfile]:
        """Resolve many names concurrently (limits from [dns]); one DnsProfile per name, never raises."""
        return self.run(self.aprofile_many(names, types, progress))

    async def wildcard_answer(self, zone: str, probes: int = 2) -> list[str] | None:
        """The A records random labels under ``zone`` get, or None when the zone is not a wildcard.

        Two random 20-character labels: a real name that long and random is not registered, and
        two agreeing answers rule out a one-off. Cached per resolver, since a scan asks per name.
        """
        zone = zone.strip(".").lower()
        if zone in self._wildcards:
            return self._wildcards[zone]
        answers = await asyncio.gather(*(self.lookup(f"{secrets.token_hex(10)}.{zone}", "A")
                                         for _ in range(probes)))
        hits = [sorted(a.values) for a in answers if a.status == "ok" and a.values]
        result = sorted({v for h in hits for v in h}) if len(hits) == probes else None
        self._wildcards[zone] = result
        return result

    def is_wildcard(self, zone: str) -> bool:
        """True when random names under ``zone`` resolve (a wildcard zone or TLD)."""
        return self.run(self.wildcard_answer(zone)) is not None


def _answer(name: str, rdtype: str, qname: dns.name.Name, want: dns.rdatatype.RdataType,
            reply: dns.message.Message) -> DnsAnswer:
    rcode = reply.rcode()
    if rcode == dns.rcode.NXDOMAIN:
        return DnsAnswer(name, rdtype, "nxdomain")
    if rcode != dns.rcode.NOERROR:
        return DnsAnswer(name, rdtype, "servfail", error=dns.rcode.to_text(rcode))
    # Follow the CNAME chain inside the answer section, as a stub resolver does.
    target = qname
    values: list[str] = []
    ttl: int | None = None
    for _hop in range(16):
        rrset = reply.get_rrset(reply.answer, target, dns.rdataclass.IN, want)
        if rrset is not None:
            values = [_text(rr) for rr in rrset]
            ttl = rrset.ttl
            break
        cname = reply.get_rrset(reply.answer, target, dns.rdataclass.IN, dns.rdatatype.CNAME)
        if cname is None or want == dns.rdatatype.CNAME:
            break
        target = cname[0].target
    return DnsAnswer(name, rdtype, "ok" if values else "nodata", values, ttl)


def _text(rr: Any) -> str:
    t = rr.to_text()
    if rr.rdtype == dns.rdatatype.TXT:
        return "".join(s.decode("utf-8", "replace") for s in rr.strings)
    return t.rstrip(".") if rr.rdtype in (dns.rdatatype.CNAME, dns.rdatatype.NS, dns.rdatatype.PTR) else t
