"""The watcher's HTTP client for its own checks (takeover fingerprints, short-code page, MTA-STS, feeds).

Every connection passes ``crawlers.guard.address_allowed`` (the one place that decides), and the
address checked is the address connected to:

- **No proxy**: the client's network backend resolves the host once (the configured name servers,
  or the system resolver), refuses the connection if any answer is refused, and connects to the
  address it checked (pinned: no second lookup, so DNS rebinding cannot swap it). A name that does
  not resolve here is refused, and so is a lookup that times out (fail closed).
- **Egress proxy** (``crawl.proxy``): the proxy resolves the name on the far side, so the request's
  host is judged here: an address literal in any spelling, a local name, or a name that resolves
  here to a refused address is refused; a name that does not resolve here is left to the proxy.

Both run for every request, so every redirect hop is judged like the first. Sizes and times are
capped; the proxy and CA file come from config.

Hosts the operator named in config (``endpoints``: an alert webhook, the MISP server, a CT log) are
reached directly and judged by ``crawlers.guard.endpoint_allowed``: the firm's own services may be
on private or loopback addresses, but never on a metadata, link-local or unspecified one. Any other
host on the way (a redirect hop) is judged like a page's.
"""

from __future__ import annotations

import concurrent.futures
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import dns.exception
import dns.nameserver
import dns.resolver
import httpcore
import httpx

from crawlers.guard import (
    Network,
    NotAnAddress,
    address_allowed,
    endpoint_allowed,
    host_address,
    parse_networks,
)
from watcher.core.config import Settings

DEFAULT_LIMIT = 2 * 1024 * 1024
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class RefusedAddress(httpx.HTTPError):
    """The guard refused the target's address."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class Guard:
    """The fetch guard as the watcher applies it: lab mode, the allow list, how to resolve."""

    def __init__(self, settings: Settings, *, proxy: bool | None = None, endpoints: Iterable[str] = ()) -> None:
        self.lab_mode = settings.service.lab_mode
        self.endpoints = frozenset(_bare(h) for h in endpoints if h)
        self.allow: tuple[Network, ...] = parse_networks(settings.crawl.allow_addresses)
        self.proxy = bool(settings.crawl.proxy) if proxy is None else proxy
        conf = settings.dns
        self.timeout = conf.timeout * (conf.retries + 1)
        self.resolver: dns.resolver.Resolver | None = None
        if conf.nameservers:
            r = dns.resolver.Resolver(configure=False)
            r.nameservers = [dns.nameserver.Do53Nameserver(ns, port=conf.port) for ns in conf.nameservers]
            r.timeout, r.lifetime = conf.timeout, self.timeout
            self.resolver = r

    def judge(self, address: str, host: str = "") -> str:
        """Why ``address`` (an address of ``host``) is refused; "" when it is allowed."""
        decide = endpoint_allowed if _bare(host) in self.endpoints else address_allowed
        ok, why = decide(address, lab_mode=self.lab_mode, allow=self.allow)
        return "" if ok else why

    def resolve(self, host: str) -> list[str]:
        """Every address of ``host`` (A and AAAA). Raises LookupError when it does not resolve and
        TimeoutError when the lookup does not finish in time."""
        if self.resolver is not None:
            found: list[str] = []
            for rtype in ("A", "AAAA"):
                try:
                    found += [r.to_text() for r in self.resolver.resolve(host, rtype, search=False)]
                except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers):
                    continue
                except dns.exception.Timeout:
                    raise TimeoutError(f"the lookup of {host} timed out") from None
            if not found:
                raise LookupError(f"{host} does not resolve")
            return found
        # The system resolver (with /etc/hosts) has no timeout of its own: bounded from outside.
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        future = pool.submit(socket.getaddrinfo, host, None, proto=socket.IPPROTO_TCP)
        pool.shutdown(wait=False)
        try:
            infos = future.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            raise TimeoutError(f"the lookup of {host} timed out") from None
        except (OSError, UnicodeError) as e:
            raise LookupError(f"{host} does not resolve: {e}") from None
        return list(dict.fromkeys(str(i[4][0]) for i in infos))

    def addresses_for(self, host: str) -> list[str]:
        """The allowed addresses to connect to for ``host``; raises RefusedAddress."""
        literal = self._literal(host)
        if literal is not None:
            why = self.judge(literal, host)
            if why:
                raise RefusedAddress(f"refused {host}: {why}")
            return [literal]
        if self.lab_mode:
            return [host]  # the lab's own names: let the system connect as it would
        self._refuse_local(host)
        try:
            found = self.resolve(host)
        except TimeoutError as e:
            raise RefusedAddress(f"refused {host}: {e} (fail closed)") from None
        except LookupError as e:
            raise RefusedAddress(f"refused {host}: {e} here and no proxy is configured") from None
        for a in found:
            why = self.judge(a, host)
            if why:
                raise RefusedAddress(f"refused {host}: it resolves to {a}, and {why}")
        return found

    def check_request(self, url: httpx.URL) -> None:
        """The per-request check (every redirect hop): scheme, address literals, local names, and
        with a proxy a name that resolves here to a refused address."""
        if url.scheme not in ("http", "https"):
            raise RefusedAddress(f"refused {url}: only http and https are fetched")
        host = url.host
        literal = self._literal(host)
        if literal is not None:
            why = self.judge(literal, host)
            if why:
                raise RefusedAddress(f"refused {host}: {why}")
            return
        if self.lab_mode or not self.proxy:
            return  # without a proxy the connection itself is checked (and pinned) by the backend
        self._refuse_local(host)
        try:
            found = self.resolve(host)
        except LookupError:
            return  # not known here: the proxy resolves it on the far side
        except TimeoutError as e:
            raise RefusedAddress(f"refused {host}: {e} (fail closed)") from None
        for a in found:
            why = self.judge(a, host)
            if why:
                raise RefusedAddress(f"refused {host}: it resolves to {a}, and {why}")

    def _refuse_local(self, host: str) -> None:
        h = _bare(host)
        if h in self.endpoints:
            return  # a service on this host, named so in config: its address is judged as an endpoint's
        if h in LOCAL_NAMES or h.endswith(".localhost"):
            raise RefusedAddress(f"refused {host}: a local name")

    def _literal(self, host: str) -> str | None:
        try:
            ip = host_address(host)
        except NotAnAddress as e:
            raise RefusedAddress(f"refused {host}: {e}") from None
        return None if ip is None else str(ip)


def _bare(host: str) -> str:
    return host.strip().lower().rstrip(".").removeprefix("[").removesuffix("]")


class _PinningBackend(httpcore.SyncBackend):
    """Resolve once, judge every answer, connect to the address judged."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        last: Exception | None = None
        for address in self.guard.addresses_for(host):
            try:
                return super().connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                           socket_options=socket_options)
            except httpcore.ConnectError as e:  # try the next allowed address, like any client
                last = e
        raise last or httpcore.ConnectError(f"no address to connect to for {host}")


class GuardedTransport(httpx.HTTPTransport):
    def __init__(self, guard: Guard, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.guard = guard
        if not kwargs.get("proxy"):
            # httpx has no public hook for the network backend; the pool is built by the line above.
            self._pool._network_backend = _PinningBackend(guard)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.guard.check_request(request.url)
        return super().handle_request(request)


def make_client(settings: Settings, *, timeout: float | None = None, follow_redirects: bool = True,
                endpoints: Iterable[str] = (), proxy: str | None = None, verify: Any = None,
                **kwargs: Any) -> httpx.Client:
    """The guarded client. Pages and names from outside go through ``crawl.proxy`` (when set) with
    ``crawl.ca_file``. With ``endpoints`` (hosts named in config) those hosts are judged as
    endpoints, the connection goes through ``proxy`` (that service's own setting; default: direct,
    never the crawl egress proxy) and ``verify`` is its TLS setting (default: the system's CAs)."""
    crawl = settings.crawl
    endpoints = tuple(endpoints)
    if proxy is None:
        proxy = "" if endpoints else crawl.proxy
    if verify is None:
        verify = True
        if crawl.ca_file and not endpoints:
            verify = ssl.create_default_context(cafile=str(settings.path(crawl.ca_file)))
    guard = Guard(settings, proxy=bool(proxy), endpoints=endpoints)
    transport = GuardedTransport(guard, verify=verify, proxy=proxy or None)
    return httpx.Client(
        transport=transport,
        timeout=timeout or crawl.page_timeout_seconds,
        follow_redirects=follow_redirects,
        max_redirects=crawl.max_redirects,
        trust_env=False,
        **{"headers": {"User-Agent": crawl.user_agent_desktop}, **kwargs},
    )


def read_capped(response: httpx.Response, limit: int = DEFAULT_LIMIT) -> bytes:
    """Read a streamed response body, stopping at ``limit`` bytes."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]
