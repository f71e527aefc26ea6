"""The RDAP client (RFC 7480-7484, 9083, 9224), with WHOIS for the TLDs that have no RDAP.

``RdapClient.domain(name) -> Registration`` and ``.ip(address) -> Network`` are synchronous and never
raise: a failure is in ``.error``, a name that is not registered has ``.exists == False``. The client
finds each TLD's server in the shipped IANA bootstrap snapshot (``rdap.bootstrap_file``, refreshed by
``omamori data refresh rdap-dns``; ``rdap.overrides`` win), keeps answers for ``rdap.cache_hours``
(in memory, and with an ``AnswerStore`` in the database for every host: a name is asked once per TTL
by the whole cluster; ``batch`` reads a crawler batch's answers in one query and writes in one), spaces its requests to one
server by ``rdap.requests_per_minute`` (shared by every host through ``reserve``) and, on 429,
waits what Retry-After says (bounded) before one more try. TLDs in ``rdap.whois_servers`` (``.jp``:
JPRS runs no RDAP service) are asked over port 43 and parsed into the same ``Registration``.

What the takedown needs is the registrar's abuse contact: ICANN's RDAP profile puts it in an entity
with role ``abuse`` nested inside the registrar entity, with a vCard email and tel; some registries
put it at the top level instead. Both are read.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from watcher.clients import whois
from watcher.clients.http import Guard, GuardedTransport
from watcher.clients.records import Network, Registration, epp_status, parse_date
from watcher.core.clock import Clock, SystemClock
from watcher.core.config import Settings
from watcher.core.names import InvalidName, normalize_host
from watcher.core.rdapcache import AnswerStore

log = logging.getLogger("omamori.rdap")

RDAP_ACCEPT = "application/rdap+json, application/json;q=0.9"
MAX_RETRY_AFTER = 30.0  # seconds: a server asking for longer gets an error now and a retry next run
MAX_BODY = 2 * 1024 * 1024
MAX_SHARED_WAIT = 120.0  # seconds: never wait longer than this for a shared slot (a runaway queue of slots)
# Port-43 servers of ccTLDs without RDAP in IANA's bootstrap, as IANA's root zone database lists them
# (https://www.iana.org/domains/root/db/cn.html). Config (rdap.whois_servers) wins.
WHOIS_FALLBACK = {"cn": "whois.cnnic.cn", "jp": "whois.jprs.jp"}


def vcard(entity: dict[str, Any]) -> dict[str, str]:
    """fn, org, email, tel of a jCard (RFC 7095); the first of each, tel without the ``tel:`` prefix."""
    out: dict[str, str] = {}
    arr = entity.get("vcardArray")
    if not (isinstance(arr, list) and len(arr) == 2 and isinstance(arr[1], list)):
        return out
    for prop in arr[1]:
        if not (isinstance(prop, list) and len(prop) >= 4):
            continue
        name, value = str(prop[0]).lower(), prop[3]
        if isinstance(value, list):
            value = " ".join(str(v) for v in value if v)
        value = str(value).strip()
        if name in ("fn", "org", "email", "tel") and value and name not in out:
            out[name] = value.removeprefix("tel:") if name == "tel" else value
    return out


def _entities(obj: dict[str, Any]) -> list[dict[str, Any]]:
    ents = obj.get("entities")
    return [e for e in ents if isinstance(e, dict)] if isinstance(ents, list) else []


def _roles(entity: dict[str, Any]) -> list[str]:
    roles = entity.get("roles")
    return [str(r).lower() for r in roles] if isinstance(roles, list) else []


def _find_abuse(entities: list[dict[str, Any]]) -> dict[str, str]:
    for e in entities:
        if "abuse" in _roles(e):
            card = vcard(e)
            if card.get("email") or card.get("tel"):
                return card
    for e in entities:  # one level deeper: abuse inside registrar / registrant / technical
        found = _find_abuse(_entities(e))
        if found:
            return found
    return {}


def _events(obj: dict[str, Any]) -> dict[str, datetime]:
    out: dict[str, datetime] = {}
    events = obj.get("events")
    for ev in events if isinstance(events, list) else []:
        if not isinstance(ev, dict):
            continue
        when = parse_date(ev.get("eventDate"))
        action = str(ev.get("eventAction", "")).lower()
        if when and action and action not in out:
            out[action] = when
    return out


def parse_domain(data: Any, name: str) -> Registration:
    """An RDAP domain object -> Registration (missing parts stay empty; never raises)."""
    reg = Registration(name=name, source="rdap")
    if not isinstance(data, dict):
        reg.error = "RDAP answer is not a JSON object"
        return reg
    reg.raw = data
    ldh = data.get("ldhName")
    if isinstance(ldh, str) and ldh:
        reg.name = ldh.lower().rstrip(".")
    status = data.get("status")
    reg.statuses = [epp_status(str(s)) for s in status] if isinstance(status, list) else []
    events = _events(data)
    reg.created_at = events.get("registration")
    reg.expires_at = events.get("expiration") or events.get("registrar expiration")
    reg.updated_at = events.get("last changed")
    ents = _entities(data)
    registrar = next((e for e in ents if "registrar" in _roles(e)), None)
    if registrar is not None:
        card = vcard(registrar)
        reg.registrar = card.get("fn") or card.get("org") or str(registrar.get("handle", ""))
        ids = registrar.get("publicIds")
        for pid in ids if isinstance(ids, list) else []:
            if isinstance(pid, dict) and "iana" in str(pid.get("type", "")).lower():
                reg.registrar_iana_id = str(pid.get("identifier", ""))
        if not reg.registrar_iana_id and str(registrar.get("handle", "")).isdigit():
            reg.registrar_iana_id = str(registrar["handle"])
        abuse = _find_abuse(_entities(registrar))
    else:
        abuse = {}
    abuse = abuse or _find_abuse(ents)
    reg.abuse_email = abuse.get("email", "")
    reg.abuse_phone = abuse.get("tel", "")
    owner = next((e for e in ents if "registrant" in _roles(e)), None)
    if owner is not None:  # a hacked site's owner is asked to remove the kit (when the registry shows them)
        card = vcard(owner)
        reg.extra = {**reg.extra, "registrant": card.get("fn") or card.get("org") or "",
                     "registrant_email": card.get("email", "")}
    ns = data.get("nameservers")
    reg.nameservers = sorted({str(n.get("ldhName", "")).lower().rstrip(".")
                              for n in (ns if isinstance(ns, list) else []) if isinstance(n, dict)} - {""})
    sec = data.get("secureDNS")
    if isinstance(sec, dict):
        signed = sec.get("delegationSigned", sec.get("zoneSigned"))
        reg.dnssec = bool(signed) if signed is not None else None
    return reg


def parse_network(data: Any, address: str) -> Network:
    """An RDAP ip network object -> Network."""
    net = Network(address=address)
    if not isinstance(data, dict):
        net.error = "RDAP answer is not a JSON object"
        return net
    net.raw = data
    net.start = str(data.get("startAddress", "") or "")
    net.end = str(data.get("endAddress", "") or "")
    net.name = str(data.get("name", "") or "")
    net.handle = str(data.get("handle", "") or "")
    net.country = str(data.get("country", "") or "")
    cidrs = data.get("cidr0_cidrs")
    if isinstance(cidrs, list) and cidrs and isinstance(cidrs[0], dict):
        c = cidrs[0]
        prefix = c.get("v4prefix") or c.get("v6prefix")
        if prefix and c.get("length") is not None:
            net.cidr = f"{prefix}/{c['length']}"
    if not net.cidr and net.start and net.end:
        try:
            first = next(ipaddress.summarize_address_range(ipaddress.ip_address(net.start),
                                                           ipaddress.ip_address(net.end)))
            net.cidr = str(first)
        except (ValueError, TypeError, StopIteration):
            pass
    ents = _entities(data)
    owner = next((e for e in ents if "registrant" in _roles(e)), None)
    if owner is not None:
        card = vcard(owner)
        net.org = card.get("fn") or card.get("org") or ""
    abuse = _find_abuse(ents)
    net.abuse_email = abuse.get("email", "")
    net.abuse_phone = abuse.get("tel", "")
    return net


# ---------------------------------------------------------------- bootstrap


def load_bootstrap(path: Any) -> dict[str, list[str]]:
    """IANA RFC 9224 file -> {entry (TLD or CIDR): [base URLs]}; {} when the file is missing or bad."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: dict[str, list[str]] = {}
    for svc in data.get("services", []) if isinstance(data, dict) else []:
        if isinstance(svc, list) and len(svc) == 2:
            for entry in svc[0]:
                out[str(entry).lower()] = [str(u) for u in svc[1]]
    if isinstance(data, dict) and isinstance(data.get("default"), str):
        out["__default__"] = [data["default"]]
    return out


def _base(urls: list[str], allow_http: bool) -> str:
    https = [u for u in urls if u.startswith("https://")]
    chosen = https[0] if https else (urls[0] if urls and allow_http and urls[0].startswith("http://") else "")
    return chosen if not chosen or chosen.endswith("/") else chosen + "/"


# ---------------------------------------------------------------- the client


class RdapClient:
    def __init__(self, settings: Settings, clock: Clock | None = None, *,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 reserve: Callable[[str, float], float] | None = None,
                 answers: AnswerStore | None = None) -> None:
        self.settings = settings
        # Answers shared through the database (None: this process's memory only).
        self.answers = answers
        # Shared spacing (``reserve(key, gap) -> seconds to wait``, rows in the database) so every
        # host together keeps to requests_per_minute per server; None: this process alone.
        self.reserve = reserve
        self.conf = settings.rdap
        self.clock = clock or SystemClock()
        self.sleep = sleep
        self._dns = load_bootstrap(settings.path(self.conf.bootstrap_file))
        self._ipv4 = load_bootstrap(settings.path(self.conf.ip_bootstrap_file))
        self._cache: dict[tuple[str, str], tuple[datetime, Any]] = {}
        self._last: dict[str, float] = {}  # server host -> monotonic time of the last request
        self._lock = threading.Lock()
        self._local = threading.local()  # a thread's crawler batch (``batch``)
        # RDAP servers redirect (registry to registrar, RIR to RIR): every hop passes the fetch guard.
        transport = transport or GuardedTransport(Guard(settings, proxy=False))
        self._http = httpx.Client(timeout=self.conf.timeout, follow_redirects=True, transport=transport,
                                  headers={"Accept": RDAP_ACCEPT, "User-Agent": "omamori-rdap/0.1"})
        self.requests = 0

    # --- servers ----------------------------------------------------------------------------

    def server_for(self, domain: str) -> str:
        """RDAP base URL for ``domain``'s TLD ("" when there is none)."""
        labels = domain.lower().rstrip(".").split(".")
        for i in range(len(labels)):
            suffix = ".".join(labels[i:])
            if suffix in self.conf.overrides:
                return _base([self.conf.overrides[suffix]], self.conf.allow_http)
        tld = labels[-1]
        return _base(self._dns.get(tld, []), self.conf.allow_http)

    def whois_server_for(self, domain: str) -> str:
        """The configured WHOIS server for ``domain``'s TLD, else the registry's published one for the
        few ccTLDs phishing uses that have no RDAP service in IANA's bootstrap (``WHOIS_FALLBACK``)."""
        labels = domain.lower().rstrip(".").split(".")
        for i in range(len(labels)):
            spec = self.conf.whois_servers.get(".".join(labels[i:]))
            if spec:
                return spec
        return WHOIS_FALLBACK.get(labels[-1], "") if not self.server_for(domain) else ""

    def ip_server_for(self, address: str) -> str:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return ""
        best: tuple[int, list[str]] | None = None
        for entry, urls in self._ipv4.items():
            if entry == "__default__":
                continue
            try:
                net = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                continue
            if ip.version == net.version and ip in net and (best is None or net.prefixlen > best[0]):
                best = (net.prefixlen, urls)
        urls = best[1] if best else self._ipv4.get("__default__", [])
        return _base(urls, self.conf.allow_http)

    # --- cache and politeness -----------------------------------------------------------------

    def _ttl(self) -> timedelta:
        return timedelta(hours=self.conf.cache_hours)

    def _horizon(self) -> timedelta:
        """The oldest answer any caller may use (a "not registered" one for an NXDOMAIN name)."""
        return timedelta(hours=max(self.conf.cache_hours, self.conf.unregistered_cache_hours))

    def _fresh(self, hit: tuple[datetime, Any] | None, nxdomain: bool) -> bool:
        if hit is None:
            return False
        age = self.clock.now() - hit[0]
        if age < self._ttl():
            return True
        return (nxdomain and getattr(hit[1], "exists", True) is False
                and age < timedelta(hours=self.conf.unregistered_cache_hours))

    def _cached(self, key: tuple[str, str], *, nxdomain: bool = False) -> Any:
        with self._lock:
            hit = self._cache.get(key)
        if self._fresh(hit, nxdomain):
            return hit[1] if hit else None
        if self.answers is not None and self.conf.cache_hours > 0 and key not in self._batch_state("looked"):
            self._load_shared(key[0], [key[1]])
            with self._lock:
                hit = self._cache.get(key)
            if self._fresh(hit, nxdomain):
                return hit[1] if hit else None
        return None

    def _load_shared(self, kind: str, keys: list[str]) -> None:
        """Answers other hosts (or this one) stored, into this process's memory."""
        assert self.answers is not None
        try:
            found = self.answers.load(kind, keys, newer_than=self.clock.now() - self._horizon())
        except Exception as e:  # the database hiccuped: ask the server, as without a shared cache
            log.warning("shared RDAP answers unavailable (%s): asking the servers", e)
            return
        with self._lock:
            for k, (at, data) in found.items():
                value = Registration.from_dict(data, k) if kind == "domain" else Network.from_dict(data, k)
                self._cache[(kind, k)] = (at, value)

    def _store(self, key: tuple[str, str], value: Any) -> None:
        if getattr(value, "error", ""):
            return  # failures are retried next time, not remembered
        now = self.clock.now()
        with self._lock:
            self._cache[key] = (now, value)
        pending = self._batch_state("pending")
        if pending is not None:  # written with the rest of the batch
            pending[key] = (now, value)
            return
        if self.answers is not None and self.conf.cache_hours > 0:
            try:
                self.answers.save(key[0], {key[1]: value.as_dict()}, at=now)
            except Exception as e:
                log.warning("shared RDAP answers unavailable (%s): %s kept in this process only", e, key[1])

    def _batch_state(self, name: str) -> Any:
        state = getattr(self._local, "batch", None)
        if state is None:
            return set() if name == "looked" else None
        return state[name]

    @contextmanager
    def batch(self, *, domains: Sequence[str] = (), addresses: Sequence[str] = ()) -> Iterator[None]:
        """Lookups of one crawler batch (in this thread): the stored answers of its names and
        addresses are read in one query each, and the answers it asked for are written in one
        upsert at the end, not one round trip per name each way. Never raises of its own."""
        if self.answers is None or self.conf.cache_hours <= 0 or getattr(self._local, "batch", None) is not None:
            yield
            return
        looked: set[tuple[str, str]] = set()
        now = self.clock.now()
        for kind, keys in (("domain", [self._target(d) for d in domains]), ("ip", [self._address(a) for a in addresses])):
            with self._lock:
                missing = sorted({k for k in keys if k and not ((hit := self._cache.get((kind, k)))
                                                                 and now - hit[0] < self._horizon())})
            if missing:
                self._load_shared(kind, missing)
                looked.update((kind, k) for k in missing)
        pending: dict[tuple[str, str], tuple[datetime, Any]] = {}
        self._local.batch = {"looked": looked, "pending": pending}
        try:
            yield
        finally:
            self._local.batch = None
            for kind in ("domain", "ip"):
                mine = {k: v for (kd, k), v in pending.items() if kd == kind}
                if not mine:
                    continue
                try:
                    self.answers.save(kind, {k: v.as_dict() for k, (_, v) in mine.items()},
                                      at=min(at for at, _ in mine.values()))
                except Exception as e:
                    log.warning("shared RDAP answers unavailable (%s): %d kept in this process only", e, len(mine))

    @staticmethod
    def _address(value: str) -> str:
        try:
            return str(ipaddress.ip_address(value.strip()))
        except ValueError:
            return ""

    @staticmethod
    def _target(name: str) -> str:
        try:
            n = normalize_host(name)
        except InvalidName:
            return ""
        return "" if n.is_ip else (n.registrable or n.ascii)

    def _pace(self, host: str) -> None:
        """Space requests to one server by 60 / requests_per_minute seconds (real time: politeness)."""
        gap = 60.0 / self.conf.requests_per_minute
        if self.reserve is not None:
            try:
                wait = self.reserve(f"rdap:{host}", gap)
            except Exception as e:  # the database hiccuped: this process spaces its own requests
                log.warning("shared RDAP spacing unavailable (%s): spacing this process's requests only", e)
            else:
                if wait > 0:
                    self.sleep(min(wait, MAX_SHARED_WAIT))
                return
        with self._lock:
            now = time.monotonic()
            wait = max(0.0, self._last.get(host, -1e9) + gap - now)
            self._last[host] = now + wait
        if wait > 0:
            self.sleep(wait)

    def _get(self, url: str) -> tuple[int, Any, str]:
        """GET with pacing and one Retry-After backoff; (status, json or None, error)."""
        host = urlsplit(url).netloc
        for attempt in range(3):
            self._pace(host)
            self.requests += 1
            try:
                r = self._http.get(url)
            except httpx.HTTPError as e:
                return 0, None, f"{type(e).__name__}: {e}"[:300]
            if r.status_code == 429:
                wait = _retry_after(r.headers.get("Retry-After"))
                if attempt == 2 or wait is None or wait > MAX_RETRY_AFTER:
                    return 429, None, f"rate limited by {host} (Retry-After {r.headers.get('Retry-After')})"
                if self.reserve is not None:  # every host backs off, not only this one
                    try:
                        self.reserve(f"rdap:{host}", wait)
                    except Exception as e:
                        log.warning("shared RDAP spacing unavailable: %s", e)
                self.sleep(wait)
                continue
            if r.status_code == 404:
                return 404, None, ""
            if r.status_code >= 400:
                return r.status_code, None, f"HTTP {r.status_code} from {host}"
            if len(r.content) > MAX_BODY:
                return r.status_code, None, f"answer from {host} larger than {MAX_BODY} bytes"
            try:
                return r.status_code, r.json(), ""
            except ValueError:
                return r.status_code, None, f"answer from {host} is not JSON"
        return 429, None, f"rate limited by {host}"

    # --- the API ------------------------------------------------------------------------------

    def domain(self, name: str, *, nxdomain: bool = False) -> Registration:
        """Registration facts of ``name``'s registrable domain. Never raises.

        ``nxdomain``: the caller's DNS has no such name, so a "not registered" answer up to
        ``rdap.unregistered_cache_hours`` old still stands (``rdap.cache_hours`` for every other)."""
        try:
            n = normalize_host(name)
        except InvalidName as e:
            return Registration(name=name, error=str(e))
        target = n.registrable or n.ascii
        if n.is_ip:
            return Registration(name=target, error="an IP address has no domain registration")
        cached = self._cached(("domain", target), nxdomain=nxdomain)
        if cached is not None:
            return cached
        try:
            reg = self._domain(target)
        except Exception as e:  # the contract: never raise, whatever the peer sends
            reg = Registration(name=target, error=f"{type(e).__name__}: {e}"[:300])
        self._store(("domain", target), reg)
        return reg

    def _domain(self, target: str) -> Registration:
        whois_spec = self.whois_server_for(target)
        base = self.server_for(target)
        if whois_spec and (not base or target.rsplit(".", 1)[-1] in self.conf.whois_servers):
            return self._whois(target, whois_spec)
        if not base:
            return Registration(name=target, error=f"no RDAP server for .{target.rsplit('.', 1)[-1]} "
                                                   "in the bootstrap file, and no WHOIS server configured")
        url = f"{base}domain/{quote(target)}"
        status, data, error = self._get(url)
        if status == 404:
            return Registration(name=target, exists=False, server=base)
        if error:
            return Registration(name=target, error=error, server=base)
        reg = parse_domain(data, target)
        reg.server = base
        return reg

    def _whois(self, target: str, spec: str) -> Registration:
        host, port = whois.split_server(spec)
        self._pace(f"{host}:{port}")
        self.requests += 1
        try:
            text = whois.query(host, port, target, timeout=self.conf.timeout)
        except OSError as e:
            return Registration(name=target, source="whois", error=f"WHOIS {host}:{port}: {e}"[:300],
                                server=spec)
        reg = whois.parse(text, target, server=spec)
        reg.server = spec
        return reg

    def ip(self, address: str) -> Network:
        """The network ``address`` belongs to, its owner and abuse contact. Never raises."""
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return Network(address=address, error=f"{address!r} is not an IP address")
        addr = str(ip)
        cached = self._cached(("ip", addr))
        if cached is not None:
            return cached
        base = self.ip_server_for(addr)
        if not base:
            net = Network(address=addr, error="no RDAP server for this address in the bootstrap file")
        else:
            try:
                status, data, error = self._get(f"{base}ip/{addr}")
                if status == 404:
                    net = Network(address=addr, error="not found", server=base)
                elif error:
                    net = Network(address=addr, error=error, server=base)
                else:
                    net = parse_network(data, addr)
                    net.server = base
            except Exception as e:
                net = Network(address=addr, error=f"{type(e).__name__}: {e}"[:300], server=base)
        self._store(("ip", addr), net)
        return net

    def close(self) -> None:
        self._http.close()


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return 1.0
    value = value.strip()
    if value.isdigit():
        return float(value)
    when = parse_date(value)  # the HTTP-date form
    if when is None:
        return 1.0
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
