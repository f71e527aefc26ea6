"""RDAP (RFC 9083) for the lab: `/domain/NAME`, `/ip/ADDR`, and IANA-format bootstrap files.

Registrar entities carry the IANA id in `publicIds` and a nested `abuse` entity with vCard email and
tel, as ICANN's response profile requires; this is where omamori finds whom to send a takedown to.
Per-name failures (404, 429 with Retry-After, 500) can be injected for the next N queries.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import threading
from dataclasses import dataclass, field
from typing import Any

import idna

from lab.net import LOOPBACK, HTTPService, Request, Response, json_response
from lab.registrars import registrar

RDAP_TYPE = "application/rdap+json"
# TLDs phishing in Japan uses most, served here even when no lab domain uses them yet, so a lookup of an
# unknown name is a clean 404 from RDAP rather than "no RDAP server for this TLD".
_COMMON_TLDS = ("com", "net", "org", "info", "biz", "top", "cn", "xyz", "co", "asia", "icu", "shop", "online",
                "site", "vip", "cc", "buzz", "club", "live", "test")
CONFORMANCE = ["rdap_level_0", "icann_rdap_response_profile_1", "icann_rdap_technical_implementation_guide_1"]


def _date(value: dt.datetime | dt.date | str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{value.isoformat()}T00:00:00Z"


def _vcard(fn: str, email: str | None = None, tel: str | None = None, kind: str | None = None) -> list[Any]:
    props: list[Any] = [["version", {}, "text", "4.0"], ["fn", {}, "text", fn]]
    if kind:
        props.append(["kind", {}, "text", kind])
    if email:
        props.append(["email", {}, "text", email])
    if tel:
        props.append(["tel", {"type": "voice"}, "uri", f"tel:{tel}"])
    return ["vcard", props]


@dataclass
class DomainRecord:
    name: str
    registrar: str
    abuse_email: str | None
    created: dt.datetime
    expires: dt.datetime
    updated: dt.datetime
    statuses: list[str]
    nameservers: list[str]
    dnssec: bool
    registrant: str | None = None
    registrant_email: str | None = None


@dataclass
class NetworkRecord:
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    name: str
    abuse_email: str
    country: str
    org: str = ""
    handle: str = ""


def _within(query: ipaddress.IPv4Network | ipaddress.IPv6Network,
            network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    """``query`` lies inside ``network``; networks of different IP versions never contain each other."""
    if isinstance(query, ipaddress.IPv4Network) and isinstance(network, ipaddress.IPv4Network):
        return query.subnet_of(network)
    if isinstance(query, ipaddress.IPv6Network) and isinstance(network, ipaddress.IPv6Network):
        return query.subnet_of(network)
    return False


@dataclass
class _Failure:
    status: int
    times: int
    retry_after: int = 1


@dataclass
class LabRDAPState:
    domains: dict[str, DomainRecord] = field(default_factory=dict)
    networks: list[NetworkRecord] = field(default_factory=list)
    failures: dict[str, _Failure] = field(default_factory=dict)


class LabRDAP(HTTPService):
    """RDAP server. `url` is the base (`…/domain/NAME`); `bootstrap_url` is the IANA-style dns.json."""

    def __init__(self, host: str = LOOPBACK, port: int = 0, whois_only_tlds: tuple[str, ...] = ("jp",)) -> None:
        super().__init__(host, port)
        self.whois_only_tlds = set(whois_only_tlds)
        self.state = LabRDAPState()
        self._lock = threading.Lock()
        self.requests = 0

    @property
    def bootstrap_url(self) -> str:
        return self.url + "bootstrap/dns.json"

    @property
    def ipv4_bootstrap_url(self) -> str:
        return self.url + "bootstrap/ipv4.json"

    # --- runtime API --------------------------------------------------------------------------

    def set_domain(self, name: str, registrar: str = "Lab Registrar K.K.", abuse_email: str | None = None,
                   created: dt.datetime | dt.date | None = None, expires: dt.datetime | dt.date | None = None,
                   statuses: list[str] | None = None, nameservers: list[str] | None = None,
                   dnssec: bool = False, registrant: str | None = None,
                   updated: dt.datetime | None = None, registrant_email: str | None = None) -> DomainRecord:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)

        def as_dt(v: dt.datetime | dt.date | None, default: dt.datetime) -> dt.datetime:
            if v is None:
                return default
            if isinstance(v, dt.datetime):
                return v if v.tzinfo else v.replace(tzinfo=dt.UTC)
            return dt.datetime(v.year, v.month, v.day, tzinfo=dt.UTC)

        c = as_dt(created, now - dt.timedelta(days=3))
        rec = DomainRecord(name.lower().rstrip("."), registrar, abuse_email, c,
                           as_dt(expires, c + dt.timedelta(days=365)), updated or max(c, now - dt.timedelta(days=1)),
                           list(statuses if statuses is not None else ["client transfer prohibited"]),
                           list(nameservers or ["ns1.lab-dns.test", "ns2.lab-dns.test"]), dnssec, registrant,
                           registrant_email)
        with self._lock:
            self.state.domains[rec.name] = rec
        return rec

    def update_domain(self, name: str, **changes: Any) -> DomainRecord:
        with self._lock:
            rec = self.state.domains[name.lower().rstrip(".")]
            for k, v in changes.items():
                setattr(rec, k, v)
            rec.updated = dt.datetime.now(dt.UTC).replace(microsecond=0)
            return rec

    def add_status(self, name: str, status: str) -> None:
        with self._lock:
            rec = self.state.domains.get(name.lower().rstrip("."))
            if rec and status not in rec.statuses:
                rec.statuses.append(status)
                rec.updated = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def delete_domain(self, name: str) -> None:
        with self._lock:
            self.state.domains.pop(name.lower().rstrip("."), None)

    def domain(self, name: str) -> DomainRecord | None:
        return self.state.domains.get(name.lower().rstrip("."))

    def set_network(self, cidr: str, name: str, abuse_email: str, country: str = "JP", org: str = "") -> None:
        net = ipaddress.ip_network(cidr, strict=False)
        rec = NetworkRecord(net, name, abuse_email, country, org or name,
                            f"NET-{str(net.network_address).replace('.', '-').replace(':', '-')}-{net.prefixlen}")
        with self._lock:
            self.state.networks = [n for n in self.state.networks if n.network != net] + [rec]

    def fail(self, name: str, status: int = 429, times: int = 1, retry_after: int = 1) -> None:
        """The next `times` queries for `name` (a domain or an IP; "*" for any) answer `status`."""
        with self._lock:
            self.state.failures[name.lower().rstrip(".")] = _Failure(status, times, retry_after)

    def reset(self) -> None:
        with self._lock:
            self.state = LabRDAPState()

    # --- bootstrap ----------------------------------------------------------------------------

    def bootstrap(self) -> dict[str, Any]:
        """IANA RFC 9224 dns.json: every TLD the lab knows (minus WHOIS-only ones) points here."""
        tlds = sorted({d.rsplit(".", 1)[-1] for d in self.state.domains} - self.whois_only_tlds
                      | set(_COMMON_TLDS) - self.whois_only_tlds)
        return {"description": "RDAP bootstrap file for Domain Name System registrations (omamori lab)",
                "publication": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "version": "1.0", "services": [[tlds, [self.url]]]}

    def ipv4_bootstrap(self) -> dict[str, Any]:
        nets = sorted({str(n.network) for n in self.state.networks if n.network.version == 4}
                      | {"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"})
        return {"description": "RDAP bootstrap file for IPv4 address allocations (omamori lab)",
                "publication": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "version": "1.0", "services": [[nets, [self.url]]]}

    # --- rendering ----------------------------------------------------------------------------

    def _domain_json(self, rec: DomainRecord) -> dict[str, Any]:
        reg = registrar(rec.registrar, rec.abuse_email)
        ascii_name = idna.encode(rec.name).decode() if not rec.name.isascii() else rec.name
        out: dict[str, Any] = {
            "objectClassName": "domain",
            "rdapConformance": CONFORMANCE,
            "handle": f"{abs(hash(rec.name)) % 10**9}_DOMAIN_LAB",
            "ldhName": ascii_name.upper(),
            "status": rec.statuses,
            "events": [
                {"eventAction": "registration", "eventDate": _date(rec.created)},
                {"eventAction": "expiration", "eventDate": _date(rec.expires)},
                {"eventAction": "last changed", "eventDate": _date(rec.updated)},
                {"eventAction": "last update of RDAP database", "eventDate": _date(dt.datetime.now(dt.UTC))},
            ],
            "entities": [{
                "objectClassName": "entity", "handle": reg.iana_id, "roles": ["registrar"],
                "publicIds": [{"type": "IANA Registrar ID", "identifier": reg.iana_id}],
                "vcardArray": _vcard(reg.name, kind="org"),
                "links": [{"value": reg.url, "rel": "about", "href": reg.url, "type": "text/html"}],
                "entities": [{"objectClassName": "entity", "roles": ["abuse"],
                              "vcardArray": _vcard("Abuse Contact", reg.abuse_email, reg.abuse_phone)}],
            }],
            "nameservers": [{"objectClassName": "nameserver", "ldhName": ns.upper()} for ns in rec.nameservers],
            "secureDNS": {"zoneSigned": rec.dnssec, "delegationSigned": rec.dnssec},
            "links": [{"value": f"{self.url}domain/{ascii_name}", "rel": "self",
                       "href": f"{self.url}domain/{ascii_name}", "type": RDAP_TYPE}],
            "notices": [{"title": "Terms of Use", "description": ["Lab data; fictional."]}],
        }
        if ascii_name.startswith("xn--") or ".xn--" in ascii_name:
            try:
                out["unicodeName"] = idna.decode(ascii_name)
            except idna.IDNAError:  # not valid IDNA 2008: leave the U-label out rather than invent one
                pass
        if rec.registrant:
            out["entities"].append({"objectClassName": "entity", "roles": ["registrant"],
                                    "vcardArray": _vcard(rec.registrant, email=rec.registrant_email)})
        return out

    def _network_json(self, rec: NetworkRecord) -> dict[str, Any]:
        net = rec.network
        return {
            "objectClassName": "ip network", "rdapConformance": ["rdap_level_0", "cidr0"],
            "handle": rec.handle, "startAddress": str(net.network_address), "endAddress": str(net.broadcast_address),
            "ipVersion": f"v{net.version}", "name": rec.name, "type": "ASSIGNED", "country": rec.country,
            "status": ["active"],
            "cidr0_cidrs": [{f"v{net.version}prefix": str(net.network_address), "length": net.prefixlen}],
            "entities": [
                {"objectClassName": "entity", "roles": ["registrant"], "vcardArray": _vcard(rec.org, kind="org")},
                {"objectClassName": "entity", "roles": ["abuse"],
                 "vcardArray": _vcard(f"{rec.org} Abuse", rec.abuse_email, "+81.300000000")},
            ],
            "events": [{"eventAction": "registration", "eventDate": "2015-04-01T00:00:00Z"},
                       {"eventAction": "last changed", "eventDate": "2024-04-01T00:00:00Z"}],
            "links": [{"value": f"{self.url}ip/{net}", "rel": "self", "href": f"{self.url}ip/{net}",
                       "type": RDAP_TYPE}],
        }

    # --- HTTP ---------------------------------------------------------------------------------

    def _error(self, status: int, title: str, headers: dict[str, str] | None = None) -> Response:
        return json_response({"rdapConformance": ["rdap_level_0"], "errorCode": status, "title": title},
                             status, headers, RDAP_TYPE)

    def _injected(self, key: str) -> Response | None:
        with self._lock:
            for k in (key, "*"):
                f = self.state.failures.get(k)
                if f and f.times > 0:
                    f.times -= 1
                    headers = {"Retry-After": str(f.retry_after)} if f.status == 429 else {}
                    return self._error(f.status, "lab fault injection", headers)
        return None

    def app(self, request: Request) -> Response:
        self.requests += 1
        parts = [p for p in request.path.split("/") if p]
        if parts[:1] == ["bootstrap"] and len(parts) == 2:
            if parts[1] == "dns.json":
                return json_response(self.bootstrap())
            if parts[1] == "ipv4.json":
                return json_response(self.ipv4_bootstrap())
            return self._error(404, "no such bootstrap file")
        if len(parts) >= 2 and parts[0] == "domain":
            name = parts[1].lower().rstrip(".")
            try:
                name = idna.encode(name).decode() if not name.isascii() else name
            except (UnicodeError, idna.IDNAError):
                return self._error(400, "bad domain name")
            injected = self._injected(name)
            if injected:
                return injected
            rec = self.state.domains.get(name)
            if rec is None or name.rsplit(".", 1)[-1] in self.whois_only_tlds:
                return self._error(404, "not found")
            return json_response(self._domain_json(rec), content_type=RDAP_TYPE)
        if len(parts) >= 2 and parts[0] == "ip":
            raw = "/".join(parts[1:3]) if len(parts) == 3 else parts[1]
            injected = self._injected(raw)
            if injected:
                return injected
            try:
                query = ipaddress.ip_network(raw, strict=False)
            except ValueError:
                return self._error(400, "bad address")
            matches = [n for n in self.state.networks if _within(query, n.network)]
            if not matches:
                return self._error(404, "not found")
            best = max(matches, key=lambda n: n.network.prefixlen)  # longest prefix wins
            return json_response(self._network_json(best), content_type=RDAP_TYPE)
        if parts[:1] == ["help"]:
            return json_response({"rdapConformance": ["rdap_level_0"], "notices": [{"title": "omamori lab RDAP"}]},
                                 content_type=RDAP_TYPE)
        return self._error(404, "unknown path")

