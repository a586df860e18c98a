"""The address a request came from, as far as this deployment can trust it."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind PROXY_COUNT proxies the address the
    outermost one saw.

    Each proxy appends the address it received the request from to X-Forwarded-For, so that
    entry is PROXY_COUNT places from the right; anything to its left was written by the client
    and is never believed (else one forged header would dodge the login lockout). A header
    shorter than that, or a value that is not an address, falls back to REMOTE_ADDR.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    hops = settings.PROXY_COUNT
    if not hops:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(forwarded) < hops:
        return remote
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
