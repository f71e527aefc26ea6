"""Applying the guard (``guard.address_allowed``, the one function that decides) to URLs and hosts.

The target's own addresses come from the watcher's DNS answers. Hosts met on the way (redirects,
sub-resources) are resolved here; a name that resolves to a refused address is refused. A name that
does not resolve locally is left to the egress proxy, which resolves it on the far side.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from functools import lru_cache

from crawlers.extract import host_of
from crawlers.guard import address_allowed

_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def refusal(addresses: list[str], *, lab_mode: bool) -> str:
    """The reason the first refused address is refused, or '' when all are allowed."""
    for a in addresses:
        ok, why = address_allowed(a, lab_mode=lab_mode)
        if not ok:
            return f"refused {a}: {why}"
    return ""


def target_refusal(url: str, addresses: list[str], *, lab_mode: bool) -> str:
    """'' if the target may be fetched. The URL's host itself counts when it is an address literal."""
    host = host_of(url)
    if not host:
        return f"refused {url!r}: no host"
    if urlscheme(url) not in ("http", "https"):
        return f"refused {url!r}: only http and https are fetched"
    if lab_mode:
        return ""
    if addresses and not _is_local_name(host) and not _literal(host):
        return refusal(addresses, lab_mode=False)  # the watcher's own DNS answers for this name
    # A local name, an address literal, or no DNS answers passed in (a one-off capture): the host
    # rules decide, resolving here rather than fetching blind.
    return host_refusal(host, False)


def _is_local_name(host: str) -> bool:
    return host in _LOCAL_NAMES or host.endswith(".localhost")


def urlscheme(url: str) -> str:
    return url.split(":", 1)[0].lower() if ":" in url else ""


@lru_cache(maxsize=2048)
def host_refusal(host: str, lab_mode: bool) -> str:
    """'' if a host met on the way may be fetched (resolving it when it is a name)."""
    if lab_mode:
        return ""
    if _is_local_name(host):
        return f"refused {host}: a local name"
    lit = _literal(host)
    if lit:
        return refusal([lit], lab_mode=False)
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return ""  # unresolvable here: the proxy resolves it, or the fetch fails
    return refusal(sorted({str(i[4][0]) for i in infos}), lab_mode=False)


async def host_refusal_async(host: str, lab_mode: bool) -> str:
    if lab_mode:
        return ""
    try:
        return await asyncio.wait_for(asyncio.to_thread(host_refusal, host, lab_mode), timeout=3.0)
    except TimeoutError:
        return ""
