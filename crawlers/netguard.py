"""Applying the guard (``guard.address_allowed``, the one function that decides) to URLs and hosts.

A ``Policy`` is the guard as one crawler batch applies it: lab mode, the allow list, whether an
egress proxy resolves names on the far side, and how to resolve here (the watcher's name servers,
or the system resolver), with a deadline.

- Without a proxy a host's addresses are resolved once, every answer is judged, and the caller
  connects to the addresses judged (``Checked.addresses``): nothing resolves the name again. A name
  that does not resolve here, or whose lookup times out, is refused (fail closed).
- With a proxy the proxy resolves; here an address literal (any spelling), a local name, or a name
  that resolves here to a refused address is refused; a name unknown here is left to the proxy; a
  lookup that times out is refused.

A host is resolved at most once per batch: its first answer is judged and pinned (``known``), and
every connection to it uses that answer, so a rebinding name server gets one question.
"""

from __future__ import annotations

import concurrent.futures
import socket
from dataclasses import dataclass, field

from crawlers.extract import host_of
from crawlers.guard import Network, NotAnAddress, address_allowed, host_address, parse_networks

LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


@dataclass(frozen=True)
class Checked:
    refusal: str  # '' when allowed
    addresses: tuple[str, ...] = ()  # what to connect to (empty: let the proxy resolve)


@dataclass
class Policy:
    lab_mode: bool = False
    proxy: bool = False
    allow: tuple[Network, ...] = ()
    nameservers: tuple[tuple[str, int], ...] = ()  # empty: the system resolver
    timeout: float = 5.0
    # The watcher's DNS answers for the batch's target hosts: judged and pinned instead of a new lookup.
    known: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_job(cls, lab_mode: bool, proxy: str, allow: list[str], nameservers: list[str],
                 timeout: float) -> Policy:
        servers = []
        for ns in nameservers:
            host, _, port = ns.rpartition(":")
            servers.append((host, int(port)) if host and port.isdigit() else (ns, 53))
        return cls(lab_mode=lab_mode, proxy=bool(proxy), allow=parse_networks(allow),
                   nameservers=tuple(servers), timeout=timeout)

    def judge(self, address: str) -> str:
        ok, why = address_allowed(address, lab_mode=self.lab_mode, allow=self.allow)
        return "" if ok else why

    def resolve(self, host: str) -> list[str]:
        """Every address of ``host``; LookupError when it does not resolve, TimeoutError when slow."""
        if self.nameservers:
            import dns.exception
            import dns.nameserver
            import dns.resolver

            r = dns.resolver.Resolver(configure=False)
            r.nameservers = [dns.nameserver.Do53Nameserver(h, port=p) for h, p in self.nameservers]
            r.timeout = r.lifetime = self.timeout
            found: list[str] = []
            for rtype in ("A", "AAAA"):
                try:
                    found += [a.to_text() for a in r.resolve(host, rtype, search=False)]
                except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers):
                    continue
                except dns.exception.Timeout:
                    raise TimeoutError(f"the lookup of {host} timed out") from None
            if not found:
                raise LookupError(f"{host} does not resolve")
            return found
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

    def check_host(self, host: str) -> Checked:
        """Whether ``host`` may be connected to, and the addresses to connect to."""
        host = host.strip().rstrip(".").lower()
        if not host:
            return Checked("refused: no host")
        try:
            literal = host_address(host)
        except NotAnAddress as e:
            return Checked(f"refused {host}: {e}")
        if literal is not None:
            why = self.judge(str(literal))
            return Checked(f"refused {host}: {why}" if why else "", (str(literal),))
        if self.lab_mode:
            return Checked("", ())
        if host in LOCAL_NAMES or host.endswith(".localhost"):
            return Checked(f"refused {host}: a local name")
        if self.known.get(host):
            found = list(self.known[host])
        else:
            try:
                found = self.resolve(host)
            except TimeoutError as e:
                return Checked(f"refused {host}: {e} (fail closed)")
            except LookupError as e:
                if self.proxy:
                    return Checked("", ())  # the proxy resolves it on the far side
                return Checked(f"refused {host}: {e} here and no proxy is configured")
            # Pinned for the rest of the batch (one short-lived process): every later check and
            # connection of this host uses the answer judged now, never a new one.
            self.known[host] = found
        for a in found:
            why = self.judge(a)
            if why:
                return Checked(f"refused {host}: it resolves to {a}, and {why}")
        return Checked("", () if self.proxy else tuple(found))

    def check_url(self, url: str) -> Checked:
        if urlscheme(url) not in ("http", "https"):
            return Checked(f"refused {url[:100]!r}: only http and https are fetched")
        host = host_of(url)
        if not host:
            return Checked(f"refused {url[:100]!r}: no host")
        return self.check_host(host)


def urlscheme(url: str) -> str:
    return url.split(":", 1)[0].lower() if ":" in url else ""
