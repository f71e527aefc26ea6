"""The one function that decides which addresses omamori may fetch from.

Phishing pages redirect, embed and resolve to wherever they like; a crawler that follows them into
loopback, the firm's private network or a cloud metadata address becomes the attacker's tool
(SSRF). So every fetch — the crawler's and the watcher's own HTTP checks — asks here first.
Only lab mode (set in config, for the lab and the tests) lets local addresses through; the
``allow`` networks (``crawl.allow_addresses``) are the operator's explicit exceptions.

An address is judged with every disguise taken off: a host written as a number in any spelling a
browser accepts (``2130706433``, ``0x7f.1``, ``0177.0.0.1``, ``127.1``), and IPv6 forms that carry
an IPv4 address inside (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible ``::a.b.c.d``, 6to4
``2002::/16``, Teredo ``2001::/32``, NAT64 ``64:ff9b::/96`` and ``64:ff9b:1::/48``).

This module imports nothing from the rest of omamori, so both processes can use it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: translator-local, never public
_TEREDO = ipaddress.ip_network("2001::/32")


class NotAnAddress(ValueError):
    """A host that looks like a number but is no valid address (refused: browsers differ on these)."""


def _ipv4_part(part: str) -> int:
    p = part.lower()
    if p.startswith("0x"):
        digits, base = p[2:], 16
    elif len(p) > 1 and p.startswith("0"):
        digits, base = p[1:], 8
    else:
        digits, base = p, 10
    if digits == "":
        return 0  # "0x" is 0 to a browser
    try:
        return int(digits, base)
    except ValueError:
        raise NotAnAddress(f"{part!r} is not a number") from None


def host_address(host: str) -> IPAddress | None:
    """The address a URL host names, in any spelling a browser (WHATWG URL) accepts; None for a name.

    Raises NotAnAddress for a host that is numeric-looking but not a valid address (``1.2.3.4.5``,
    ``0x1g``): refused rather than guessed at.
    """
    h = host.strip().rstrip(".").lower()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    if ":" in h:
        try:
            return ipaddress.ip_address(h.split("%", 1)[0])
        except ValueError:
            raise NotAnAddress(f"{host!r} is not a valid IPv6 address") from None
    parts = h.split(".")
    last = parts[-1]
    # WHATWG: the host is an IPv4 address when its last label is a number (decimal, 0x hex, 0 octal).
    looks_numeric = last != "" and (last.isdigit() or (last.startswith("0x") and all(
        c in "0123456789abcdef" for c in last[2:])))
    if not looks_numeric:
        return None
    if len(parts) > 4:
        raise NotAnAddress(f"{host!r} has more than four numeric parts")
    numbers = [_ipv4_part(p) for p in parts]
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise NotAnAddress(f"{host!r} is out of the IPv4 range")
    value = numbers[-1]
    for i, n in enumerate(numbers[:-1]):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """The IPv4 addresses an IPv6 address carries, with the name of the form."""
    found: list[tuple[str, ipaddress.IPv4Address]] = []
    if ip.ipv4_mapped is not None:
        found.append(("IPv4-mapped", ip.ipv4_mapped))
    elif int(ip) >> 32 == 0 and int(ip) > 1:
        found.append(("IPv4-compatible", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    if ip.sixtofour is not None:
        found.append(("6to4", ip.sixtofour))
    if ip in _TEREDO and ip.teredo is not None:
        server, client = ip.teredo
        found += [("Teredo server", server), ("Teredo client", client)]
    if ip in _NAT64:
        found.append(("NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    return found


def _plain_refusal(ip: IPAddress) -> str:
    if ip in _METADATA:
        return f"{ip} is a cloud metadata address"
    if ip.is_loopback:
        return f"{ip} is loopback"
    if ip.is_link_local:
        return f"{ip} is link-local"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return f"{ip} is carrier-grade NAT space"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return f"{ip} is not a unicast address"
    if ip.is_private:
        return f"{ip} is a private address"
    if isinstance(ip, ipaddress.IPv6Address) and ip in _NAT64_LOCAL:
        return f"{ip} is a local-use NAT64 address"
    return ""


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """``crawl.allow_addresses`` entries ("127.0.0.1", "10.0.5.0/24") as networks."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


def address_allowed(address: str, *, lab_mode: bool = False,
                    allow: Iterable[Network] = ()) -> tuple[bool, str]:
    """(allowed, reason). Refuses loopback, private, link-local, CGNAT, metadata, multicast,
    reserved and unspecified addresses, in any spelling and inside any IPv6 wrapping."""
    try:
        ip = host_address(address)
    except NotAnAddress as e:
        return False, str(e)
    if ip is None:
        return False, f"{address!r} is not an IP address"
    if lab_mode:
        return True, "lab mode"
    inner = embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else []
    for net in allow:
        if ip in net or any(v4 in net for _form, v4 in inner):
            return True, f"{ip} is allowed by crawl.allow_addresses ({net})"
    # An IPv4-mapped address is exactly its IPv4 address: judged as that alone.
    for form, v4 in inner:
        inner_why = _plain_refusal(v4)
        if inner_why:
            return False, f"{ip} is the {form} form of {v4} ({inner_why.removeprefix(str(v4) + ' ')})"
    mapped = isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None
    why = "" if mapped else _plain_refusal(ip)
    if why:
        return False, why
    return True, "public address"


def endpoint_allowed(address: str, *, lab_mode: bool = False,
                     allow: Iterable[Network] = ()) -> tuple[bool, str]:
    """(allowed, reason) for an address of a host the operator named in config (an alert webhook,
    the MISP server, a CT log), never for a host a page or a response chose.

    The firm's own services may sit on loopback, private or carrier-grade NAT addresses, so those
    pass; a cloud metadata, link-local, unspecified, multicast or reserved address never does, in any
    spelling or wrapping: no service is configured there, and a name that resolves there is an attack.
    """
    ok, why = address_allowed(address, lab_mode=lab_mode, allow=allow)
    if ok:
        return ok, why
    try:
        ip = host_address(address)
    except NotAnAddress as e:
        return False, str(e)
    if ip is None:
        return False, why
    inner = [v4 for _form, v4 in embedded_ipv4(ip)] if isinstance(ip, ipaddress.IPv6Address) else []
    mapped = isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None
    for candidate in ([] if mapped else [ip]) + inner:
        if candidate in _METADATA:
            return False, f"{candidate} is a cloud metadata address"
        if candidate.is_loopback:
            continue  # ::1 is inside the reserved ::/8, but it is this host
        if candidate.is_link_local:
            return False, f"{candidate} is link-local"
        if candidate.is_multicast or candidate.is_unspecified or candidate.is_reserved:
            return False, f"{candidate} is not a unicast address"
    return True, f"{ip} is the address of a configured endpoint"
