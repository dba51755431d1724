"""Rate limits of unauthenticated LTI endpoints, counted in the shared store (database or Redis).

The OIDC login initiation is the one LTI endpoint anyone can call without a signature, and
each call stores a state. Two fixed one-minute windows bound it: per client address
(``SMEB_LOGIN_RATE_PER_ADDRESS``) and per registered issuer (``SMEB_LOGIN_RATE_PER_ISSUER``).
The counters live in the store every worker shares, so four gunicorn workers allow the limit
once, not four times. Counting happens only after the issuer is known to be registered: a flood
of made-up issuers is answered from a read and writes nothing.

The client address is ``request.remote_addr``. Behind a reverse proxy that is the proxy unless
``SMEB_TRUSTED_PROXIES`` says how many proxies to believe (``create_app`` then wraps the app in
werkzeug's ``ProxyFix``); otherwise every learner shares one counter.
IPv6 addresses count per /64, the block one household or office gets.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from dataclasses import dataclass

from smeb_lti.lti.errors import RateLimited
from smeb_lti.lti.storage import KeyValueStore

WINDOW = 60  # seconds: the limits are "per minute"


def address_bucket(remote_addr: str | None) -> str:
    """The counter an address counts against: itself for IPv4, its /64 for IPv6."""
    try:
        address = ipaddress.ip_address((remote_addr or "").strip())
    except ValueError:
        return "unknown"
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _key(kind: str, value: str, window: int) -> str:
    return f"rate:{kind}:{hashlib.sha256(value.encode('utf-8')).hexdigest()[:32]}:{window}"


@dataclass(frozen=True)
class LoginLimiter:
    store: KeyValueStore
    per_address: int
    per_issuer: int

    def check(self, remote_addr: str | None, issuer: str, now: float | None = None) -> None:
        """Count one login initiation; :class:`RateLimited` (429, with Retry-After) when a limit is exceeded."""
        now = time.time() if now is None else now
        window = int(now // WINDOW)
        retry_after = max(1, WINDOW - int(now % WINDOW))
        by_address, by_issuer = self.store.hit(
            [_key("login-addr", address_bucket(remote_addr), window), _key("login-iss", issuer, window)], 2 * WINDOW
        )
        if by_address > self.per_address:
            raise RateLimited(
                f"too many LTI logins from this network address ({self.per_address} a minute, SMEB_LOGIN_RATE_PER_ADDRESS): "
                f"wait {retry_after} seconds and open the activity again",
                retry_after=retry_after,
            )
        if by_issuer > self.per_issuer:
            raise RateLimited(
                f"too many LTI logins from this platform ({self.per_issuer} a minute, SMEB_LOGIN_RATE_PER_ISSUER): "
                f"wait {retry_after} seconds and open the activity again",
                retry_after=retry_after,
            )
