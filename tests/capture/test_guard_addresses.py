"""crawlers.guard.address_allowed, the one function that decides, on every spelling of an address."""

from __future__ import annotations

import pytest

from crawlers.guard import address_allowed, parse_networks

REFUSED = {
    "2130706433": "127.0.0.1 is loopback", "0x7f.1": "loopback", "0177.0.0.1": "loopback", "127.1": "loopback",
    "0x7f000001": "loopback", "0": "0.0.0.0 is not a unicast", "0.0.0.0": "not a unicast",
    "169.254.169.254": "metadata", "[fd00:ec2::254]": "metadata", "169.254.1.1": "link-local",
    "10.0.0.1": "private", "172.16.5.4": "private", "192.168.1.1": "private", "100.64.0.1": "carrier-grade",
    "[::1]": "loopback", "::ffff:10.0.0.1": "IPv4-mapped form of 10.0.0.1", "::ffff:7f00:1": "IPv4-mapped",
    "::127.0.0.1": "IPv4-compatible", "2002:7f00:1::": "6to4 form of 127.0.0.1", "2002:a9fe:a9fe::": "6to4",
    "64:ff9b::a00:1": "NAT64 form of 10.0.0.1", "64:ff9b:1::1": "", "2001:0:4136:e378:8000:63bf:3fff:fdd2": "",
    "fe80::1": "link-local", "fc00::1": "private", "224.0.0.1": "not a unicast", "1.2.3.4.5": "more than four",
    "0x1g.1": "not a number", "4294967296": "out of the IPv4 range", "example.com": "not an IP address",
}
ALLOWED = ["93.184.216.34", "8.8.8.8", "::ffff:8.8.8.8", "2606:4700::1111", "2002:808:808::1", "0x5db8d822"]


@pytest.mark.parametrize("address", sorted(REFUSED))
def test_refused_in_any_spelling(address: str) -> None:
    ok, why = address_allowed(address)
    assert not ok and REFUSED[address] in why, why


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_pass(address: str) -> None:
    assert address_allowed(address) == (True, "public address")


def test_lab_mode_and_the_allow_list() -> None:
    assert address_allowed("127.0.0.1", lab_mode=True)[0]
    allow = parse_networks(["127.0.0.1", "10.0.5.0/24"])
    assert address_allowed("127.0.0.1", allow=allow)[0] and address_allowed("10.0.5.9", allow=allow)[0]
    assert not address_allowed("127.0.0.2", allow=allow)[0] and not address_allowed("10.0.6.1", allow=allow)[0]
    assert address_allowed("::ffff:127.0.0.1", allow=allow)[0]  # the same address, mapped
