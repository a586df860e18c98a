"""Signing and sending one webhook request, safely.

The signature: header `Cartera-Signature: t=<unix time>,v1=<hex>` where hex is
HMAC-SHA256(key = the endpoint's secret, message = f"{t}.{body}") over the exact bytes of the body.
A receiver recomputes it, compares in constant time and refuses a `t` too far from its clock
(replays). `t` changes at each attempt; the body (and its `id`) does not.

The request: POST, JSON body, short timeouts (connect 3 s, answer 5 s), redirects never followed (a
3xx is a failure), http and https only. The host is resolved here and refused when any of its
addresses is not public (loopback, private, link-local, reserved…) unless
settings.WEBHOOKS_ALLOW_PRIVATE; the connection then goes to the address that was checked (the name
is still sent as Host and checked against the certificate), so a DNS answer that changes between
the check and the connection cannot lead it inside the network.
"""

import hashlib
import hmac
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0
USER_AGENT = "Cartera-Webhooks/1"
SIGNATURE_HEADER = "Cartera-Signature"


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The value of the Cartera-Signature header."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def signature_valid(secret: str, body: bytes, header: str, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (here for the tests and as the documented example)."""
    try:
        parts = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, body, timestamp), header)


@dataclass(frozen=True)
class Outcome:
    status: int | None  # the HTTP status answered, None when there was no answer
    error: str = ""
    milliseconds: int = 0

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Refused(Exception):
    """The URL may not be called (scheme, or an address that is not public)."""


def address_allowed(address: str) -> bool:
    if settings.WEBHOOKS_ALLOW_PRIVATE:
        return True
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _target(url: str) -> tuple[str, str, int, str, str]:
    """(scheme, host, port, checked address, path with query), or Refused."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("only http and https URLs")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise Refused(f"host not found: {error.strerror or error}") from None
    addresses = [info[4][0] for info in infos]
    if not addresses or not all(address_allowed(address) for address in addresses):
        raise Refused("the host's address is not public")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, addresses[0], path


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """Sends `body` to `url`; the outcome, never an exception."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        scheme, host, port, address, path = _target(url)
    except Refused as error:
        return Outcome(None, f"refused: {error}", took())
    default_port = 443 if scheme == "https" else 80
    headers = {
        "Host": host if port == default_port else f"{host}:{port}", "User-Agent": USER_AGENT,
        "Content-Type": "application/json", **headers,
    }
    timeout = urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT)
    if scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address, port, timeout=timeout, retries=False, server_hostname=host, assert_hostname=host,
            cert_reqs="CERT_REQUIRED",
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
    try:
        with pool:
            response = pool.urlopen(
                "POST", path, body=body, headers=headers, redirect=False, retries=False, preload_content=False,
                assert_same_host=False,
            )
            response.read(64 * 1024)  # a little of the answer, then the connection is closed
            response.release_conn()
            return Outcome(response.status, "" if 200 <= response.status < 300 else f"HTTP {response.status}", took())
    except urllib3.exceptions.NewConnectionError as error:  # a subclass of the connect timeout
        return Outcome(None, f"could not connect: {error}"[:300], took())
    except urllib3.exceptions.TimeoutError:
        return Outcome(None, "timeout", took())
    except (urllib3.exceptions.HTTPError, OSError) as error:
        return Outcome(None, str(error)[:300] or error.__class__.__name__, took())
