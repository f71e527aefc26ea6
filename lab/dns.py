"""Authoritative DNS for the lab (dnslib), over UDP and TCP on the same port.

Unknown names get NXDOMAIN at once (never a timeout); a CNAME answer carries the chain as far as the
lab knows it, and a chain that ends at an unknown name is NXDOMAIN, as a recursive resolver reports it.
Zones are edited at run time; a per-name rcode override (NXDOMAIN/SERVFAIL/REFUSED) covers the name
and everything below it, which is how the lab registrar "suspends" a domain and how a DNS provider
that no longer hosts a delegated zone answers. A zone transfer (AXFR, over TCP) is answered only for
zones named in ``allow_axfr`` (the firm's own zone, transferable to its own tools) and REFUSED for
every other zone, as a well-configured primary does.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterable
from typing import Any

from dnslib import AAAA, CAA, CNAME, MX, NS, PTR, QTYPE, RCODE, RR, SOA, TXT, A, DNSLabel, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from lab.net import LOOPBACK

RTYPES = ("A", "AAAA", "CNAME", "MX", "NS", "TXT", "SOA", "CAA", "PTR")
_RCODES = {"NXDOMAIN": RCODE.NXDOMAIN, "SERVFAIL": RCODE.SERVFAIL, "REFUSED": RCODE.REFUSED}


def _norm(name: str) -> str:
    return name.strip().lower().rstrip(".")


def _txt_strings(value: str) -> list[bytes]:
    """A TXT value as character-strings of at most 255 bytes (RFC 1035 3.3.14), e.g. long DKIM keys."""
    raw = value.encode()
    return [raw[i:i + 255] for i in range(0, len(raw), 255)] or [b""]


def _rdata(rtype: str, value: str) -> Any:
    if rtype == "A":
        return A(value)
    if rtype == "AAAA":
        return AAAA(value)
    if rtype == "CNAME":
        return CNAME(value)
    if rtype == "NS":
        return NS(value)
    if rtype == "PTR":
        return PTR(value)
    if rtype == "MX":
        pref, _, host = value.partition(" ")
        return MX(host.strip(), int(pref))
    if rtype == "TXT":
        return TXT(_txt_strings(value))
    if rtype == "CAA":  # '0 issue "digicert.com"'
        flags, tag, val = value.split(None, 2)
        return CAA(int(flags), tag, val.strip('"'))
    if rtype == "SOA":
        mname, rname, *nums = value.split()
        return SOA(mname, rname, tuple(int(n) for n in nums))
    raise ValueError(f"unsupported record type {rtype}")


class _Resolver(BaseResolver):
    def __init__(self, owner: LabDNS) -> None:
        self.owner = owner

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        if self.owner.delay:
            time.sleep(self.owner.delay)
        return self.owner.answer(request)


LAB_NAMESERVERS = ("ns1.lab-dns.test", "ns2.lab-dns.test")


class LabDNS:
    """The lab's authoritative name server. `set()`/`delete()`/`set_rcode()`/`set_wildcard()` at run time."""

    def __init__(self, host: str = LOOPBACK, port: int = 0, delay: float = 0.0) -> None:
        self.host = host
        self.port = port
        self._requested_port = port
        self.delay = delay  # seconds slept per query, for benchmarks that want a realistic resolver
        self._records: dict[str, dict[str, tuple[int, list[str]]]] = {}
        self._rcodes: dict[str, str] = {}
        self.allow_axfr: set[str] = set()  # zones this server transfers to anyone who asks
        self._lock = threading.RLock()
        self._servers: list[DNSServer] = []
        self._threads: list[threading.Thread] = []
        self.queries = 0
        self._rebinds: dict[tuple[str, str], list[str]] = {}
        self._add_own_nameservers()

    def _add_own_nameservers(self) -> None:
        # Zones are delegated to the lab's own name servers by default; like any real delegation, those
        # names must resolve (to this server, on loopback), or every zone looks lame to a takeover check.
        for ns in LAB_NAMESERVERS:
            self.set(ns, "A", [LOOPBACK], 86400)

    # --- zone editing -------------------------------------------------------------------------

    def set(self, name: str, rtype: str, values: str | Iterable[str], ttl: int = 300) -> None:
        rtype = rtype.upper()
        if rtype not in RTYPES:
            raise ValueError(f"unsupported record type {rtype}")
        vals = [values] if isinstance(values, str) else list(values)
        for v in vals:
            _rdata(rtype, v)  # fail now, not at query time
        with self._lock:
            self._records.setdefault(_norm(name), {})[rtype] = (ttl, vals)

    def add(self, name: str, rtype: str, value: str, ttl: int = 300) -> None:
        """Append one value to a record set (e.g. a second TXT record)."""
        with self._lock:
            _, old = self._records.get(_norm(name), {}).get(rtype.upper(), (ttl, []))
        self.set(name, rtype, [*old, value], ttl)

    def set_ptr(self, address: str, host: str, ttl: int = 3600) -> None:
        """Reverse DNS: ``address`` (IPv4 or IPv6) names ``host`` (the in-addr.arpa / ip6.arpa PTR)."""
        self.set(ipaddress.ip_address(address).reverse_pointer, "PTR", host, ttl)

    def get(self, name: str, rtype: str) -> list[str]:
        with self._lock:
            return list(self._records.get(_norm(name), {}).get(rtype.upper(), (0, []))[1])

    def delete(self, name: str, rtype: str | None = None) -> None:
        with self._lock:
            recs = self._records.get(_norm(name))
            if recs is None:
                return
            if rtype is None:
                del self._records[_norm(name)]
            else:
                recs.pop(rtype.upper(), None)
                if not recs:
                    del self._records[_norm(name)]

    def rebind(self, name: str, first: str | Iterable[str], then: str | Iterable[str], rtype: str = "A",
               ttl: int = 0) -> None:
        """DNS rebinding, as an attacker's name server does it: the first query for ``name`` gets
        ``first`` (an address a guard allows), every later query ``then`` (an internal one), ttl 0."""
        self.set(name, rtype, first, ttl)
        later = [then] if isinstance(then, str) else list(then)
        with self._lock:
            self._rebinds[(_norm(name), rtype.upper())] = later

    def set_rcode(self, name: str, rcode: str | None) -> None:
        """Answer `rcode` ("NXDOMAIN", "SERVFAIL", "REFUSED") for `name` and below; None clears it."""
        with self._lock:
            if rcode is None:
                self._rcodes.pop(_norm(name), None)
            else:
                if rcode.upper() not in _RCODES:
                    raise ValueError(rcode)
                self._rcodes[_norm(name)] = rcode.upper()

    def set_wildcard(self, zone: str, values: str | Iterable[str] = "192.0.2.80", rtype: str = "A",
                     ttl: int = 300) -> None:
        """Every name under `zone` answers (a `*.zone` record, RFC 4592 semantics for names not present)."""
        self.set(f"*.{_norm(zone)}", rtype, values, ttl)

    def add_zone(self, apex: str, nameservers: Iterable[str] = LAB_NAMESERVERS,
                 ttl: int = 3600) -> None:
        """SOA and NS at the apex, so negative answers carry an SOA like a real zone's."""
        apex = _norm(apex)
        self.set(apex, "SOA", f"{next(iter(nameservers))} hostmaster.{apex} {int(time.time())} 3600 600 86400 300",
                 ttl)
        self.set(apex, "NS", list(nameservers), ttl)

    def load_zone(self, zone_text: str) -> list[str]:
        """Every record of a BIND zone file (``$ORIGIN``, ``$TTL``, multi-string TXT); returns the names."""
        from dnslib import ZoneParser

        sets: dict[tuple[str, str], tuple[int, list[str]]] = {}
        for rr in ZoneParser(zone_text):
            rtype = QTYPE.get(rr.rtype)
            if rtype not in RTYPES:
                continue
            if rtype == "TXT":
                value = b"".join(rr.rdata.data).decode()
            else:
                value = str(rr.rdata).rstrip(".") if rtype in ("CNAME", "NS", "PTR") else str(rr.rdata)
                if rtype == "MX":
                    pref, _, host = value.partition(" ")
                    value = f"{pref} {host.rstrip('.')}"
            key = (_norm(str(rr.rname)), rtype)
            ttl, values = sets.get(key, (rr.ttl, []))
            sets[key] = (ttl, [*values, value])
        for (name, rtype), (ttl, values) in sets.items():
            self.set(name, rtype, values, ttl)
        return sorted({name for name, _ in sets})

    def reset(self) -> None:
        with self._lock:
            self._records.clear()
            self._rcodes.clear()
            self.allow_axfr.clear()
        self.delay = 0.0
        self._add_own_nameservers()

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._records)

    # --- answering ----------------------------------------------------------------------------

    def _rcode_for(self, name: str) -> str | None:
        labels = name.split(".")
        for i in range(len(labels)):
            hit = self._rcodes.get(".".join(labels[i:]))
            if hit:
                return hit
        return None

    def _lookup(self, name: str) -> dict[str, tuple[int, list[str]]] | None:
        """Records for `name`: exact, else the closest wildcard; {} for an empty non-terminal."""
        recs = self._records.get(name)
        if recs is not None:
            return recs
        suffix = "." + name
        if any(k.endswith(suffix) for k in self._records):
            return {}  # exists as a parent of other names: NODATA, not NXDOMAIN
        labels = name.split(".")
        for i in range(1, len(labels)):
            wild = self._records.get("*." + ".".join(labels[i:]))
            if wild is not None:
                return wild
        return None

    def _soa_for(self, name: str) -> tuple[str, int, str] | None:
        labels = name.split(".")
        for i in range(len(labels)):
            zone = ".".join(labels[i:])
            soa = self._records.get(zone, {}).get("SOA")
            if soa:
                return zone, soa[0], soa[1][0]
        return None

    def _transfer(self, reply: DNSRecord, zone: str) -> DNSRecord:
        """The whole zone, SOA first and last (RFC 5936), or REFUSED for a zone not allowed."""
        soa = self._records.get(zone, {}).get("SOA")
        if zone not in self.allow_axfr or not soa:
            reply.header.rcode = RCODE.REFUSED
            return reply
        first = RR(DNSLabel(zone + "."), QTYPE.SOA, rdata=_rdata("SOA", soa[1][0]), ttl=soa[0])
        reply.add_answer(first)
        for name in sorted(n for n in self._records if n == zone or n.endswith("." + zone)):
            for rtype, (ttl, vals) in sorted(self._records[name].items()):
                if name == zone and rtype == "SOA":
                    continue
                for v in vals:
                    reply.add_answer(RR(DNSLabel(name + "."), getattr(QTYPE, rtype), rdata=_rdata(rtype, v), ttl=ttl))
        reply.add_answer(first)
        return reply

    def answer(self, request: DNSRecord) -> DNSRecord:
        self.queries += 1
        reply = request.reply()
        reply.header.ra = 1  # clients treat the lab as their resolver
        qname = _norm(str(request.q.qname))
        qtype = QTYPE.get(request.q.qtype)
        if qtype == "AXFR":
            with self._lock:
                return self._transfer(reply, qname)
        with self._lock:
            name = qname
            for _hop in range(10):
                forced = self._rcode_for(name)
                delegation = self._records.get(name, {}).get("NS")
                if forced == "REFUSED" and qtype == "NS" and delegation and name == qname:
                    # The parent zone still hands out the delegation; only the child's servers refuse.
                    for v in delegation[1]:
                        reply.add_answer(RR(DNSLabel(name + "."), QTYPE.NS, rdata=_rdata("NS", v), ttl=delegation[0]))
                    break
                if forced:
                    reply.header.rcode = _RCODES[forced]
                    break
                recs = self._lookup(name)
                if recs is None:
                    reply.header.rcode = RCODE.NXDOMAIN
                    break
                if "CNAME" in recs and qtype != "CNAME":
                    ttl, vals = recs["CNAME"]
                    reply.add_answer(RR(DNSLabel(name + "."), QTYPE.CNAME, rdata=_rdata("CNAME", vals[0]), ttl=ttl))
                    name = _norm(vals[0])
                    continue
                wanted = list(recs) if qtype == "ANY" else [qtype]
                for rtype in wanted:
                    if rtype in recs:
                        ttl, vals = recs[rtype]
                        for v in vals:
                            reply.add_answer(RR(DNSLabel(name + "."), getattr(QTYPE, rtype),
                                                rdata=_rdata(rtype, v), ttl=ttl))
                        later = self._rebinds.pop((name, rtype), None)
                        if later is not None:  # answered once: from now on the other address
                            recs[rtype] = (ttl, later)
                break
            if not reply.rr and reply.header.rcode in (RCODE.NOERROR, RCODE.NXDOMAIN):
                soa = self._soa_for(name)
                if soa:
                    zone, ttl, value = soa
                    reply.add_auth(RR(DNSLabel(zone + "."), QTYPE.SOA, rdata=_rdata("SOA", value), ttl=ttl))
        return reply

    # --- life cycle ---------------------------------------------------------------------------

    def start(self) -> LabDNS:
        if self._servers:
            return self
        logger = DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data")
        resolver = _Resolver(self)
        for _attempt in range(20):
            udp = DNSServer(resolver, port=self._requested_port, address=self.host, logger=logger, tcp=False)
            port = int(udp.server.server_address[1])
            try:
                tcp = DNSServer(resolver, port=port, address=self.host, logger=logger, tcp=True)
            except OSError:  # the TCP side of a random UDP port was taken: try another port
                udp.server.server_close()
                if self._requested_port:
                    raise
                continue
            break
        else:
            raise OSError("no port free for both UDP and TCP")
        self.port = port
        self._servers = [udp, tcp]
        self._threads = []
        for s in self._servers:
            # our own thread with a short poll interval: dnslib's start_thread() polls every 0.5 s,
            # which makes every stop() take a second
            t = threading.Thread(target=s.server.serve_forever, kwargs={"poll_interval": 0.05},
                                 name=f"dns:{self.port}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        servers, self._servers = self._servers, []
        for s in servers:
            s.server.shutdown()
            s.server.server_close()
        for t in self._threads:
            t.join(timeout=5)
        self._threads = []

    def __enter__(self) -> LabDNS:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def query(name: str, rtype: str, port: int, host: str = LOOPBACK, tcp: bool = False,
          timeout: float = 2.0) -> DNSRecord:
    """A tiny client for lab-internal use (the abuse desk checks, the CLI)."""
    q = DNSRecord.question(name, rtype)
    data = q.send(host, port, tcp=tcp, timeout=timeout)
    return DNSRecord.parse(data)

