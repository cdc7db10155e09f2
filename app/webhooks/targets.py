"""Which receiver URLs a webhook may go to: http(s) only, and, unless WEBHOOKS_ALLOW_PRIVATE is
set, only hosts whose every address is public (no loopback, private, link-local or metadata
address, after DNS), so a subscription cannot make the server probe its own network."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from flask import current_app

from app.refusals import Refusal


class TargetRefused(Refusal):
    """A receiver URL that webhooks may not be sent to."""


def checked_url(url: str) -> str:
    """`url`, when it is an http(s) URL with a host; refused otherwise (no DNS here)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused(fields={"url": "Give an http:// or https:// URL with a host."})
    try:
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        raise TargetRefused(fields={"url": "The URL's port is not a number."}) from None
    return url


def resolve(url: str) -> tuple[str, int, str]:
    """The host, port and one address to connect to for `url`, after checking every address
    the host resolves to; the caller connects to that address, so a second lookup (DNS
    rebinding) cannot swap in another."""
    parts = urlsplit(checked_url(url))
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TargetRefused(fields={"url": f"{host} could not be resolved: {exc}"}) from None
    addresses = [str(info[4][0]) for info in found]
    if not addresses:
        raise TargetRefused(fields={"url": f"{host} has no address."})
    if not current_app.config["WEBHOOKS_ALLOW_PRIVATE"]:
        for address in addresses:
            if not is_public(address):
                raise TargetRefused(
                    fields={"url": f"{host} resolves to {address}, which is not a public address."}
                )
    return host, port, addresses[0]


def is_public(address: str) -> bool:
    """Whether `address` is on the public internet (`is_global`: not private, loopback,
    link-local with 169.254.169.254, shared 100.64/10, unspecified …)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    # ::ffff:127.0.0.1 is loopback in disguise: its IPv6 form is not flagged as such.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast
