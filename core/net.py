"""The client address every per-IP rule uses (throttles, login lockout). X-Forwarded-For is taken
only from a direct peer listed in `settings.TRUSTED_PROXIES` (addresses or CIDR networks, empty by
default): anyone can send the header, so honouring it from anyone lets a caller pick its own
identity. docs/OPERATIONS.md ("Security settings") explains the rule."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """`TRUSTED_PROXIES` as networks; raises ValueError on an entry that is neither (the system
    check ecommerce.E004 reports it before any request)."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def parse_address(value: str) -> Address | None:
    """An address as proxies write it in X-Forwarded-For: `1.2.3.4`, `1.2.3.4:5678`, `::1`,
    `[::1]:5678`. None for anything else."""
    value = value.strip()
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # An IPv4 client reached over IPv6 (::ffff:1.2.3.4) is the IPv4 client.
    return getattr(address, "ipv4_mapped", None) or address


def _is_trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def client_ip(request) -> str:
    """REMOTE_ADDR, unless that peer is a trusted proxy: then X-Forwarded-For is read from the
    right (each proxy appends the address it saw) and the first address that is not a trusted
    proxy is the client. A hop that is not an address ends the walk at the proxy that reported it;
    when every hop is trusted, the left-most one is the client."""
    peer = request.META.get("REMOTE_ADDR") or ""
    networks = trusted_networks(tuple(settings.TRUSTED_PROXIES))
    current = parse_address(peer)
    if current is None:
        return peer
    if not networks or not _is_trusted(current, networks):
        return str(current)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed(forwarded.split(",") if forwarded else []):
        address = parse_address(hop)
        if address is None:
            break
        current = address
        if not _is_trusted(address, networks):
            break
    return str(current)
