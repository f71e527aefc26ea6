"""The one function that decides which addresses omamori may fetch from.

Phishing pages redirect, embed and resolve to wherever they like; a crawler that follows them into
loopback, the firm's private network or a cloud metadata address becomes the attacker's tool
(SSRF). So every fetch — the crawler's and the watcher's own HTTP checks — asks here first.
Only lab mode (set in config, for the lab and the tests) lets local addresses through.

This module imports nothing from the rest of omamori, so both processes can use it.
"""

from __future__ import annotations

import ipaddress

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


def address_allowed(address: str, *, lab_mode: bool = False) -> tuple[bool, str]:
    """(allowed, reason). Refuses loopback, private, link-local, CGNAT, multicast, reserved."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False, f"{address!r} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if lab_mode:
        return True, "lab mode"
    if ip in _METADATA:
        return False, f"{ip} is a cloud metadata address"
    if ip.is_loopback:
        return False, f"{ip} is loopback"
    if ip.is_link_local:
        return False, f"{ip} is link-local"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return False, f"{ip} is carrier-grade NAT space"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return False, f"{ip} is not a unicast address"
    if ip.is_private:
        return False, f"{ip} is a private address"
    return True, "public address"
