"""The platforms' public key sets (JWKS): fetched over HTTP with a timeout, cached, refetched for an unknown key id."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from typing import Any

import jwt
import requests
from pylti1p3.service_connector import REQUESTS_USER_AGENT

from smeb_lti.lti.errors import InvalidToken, PlatformKeyError, PlatformUnreachable
from smeb_lti.lti.storage import KeyValueStore


class TimeoutSession(requests.Session):
    """``requests`` has no default timeout; every call to a platform gets one."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout
        self.headers["User-Agent"] = "SMEB-LTI-Tool (" + REQUESTS_USER_AGENT + ")"

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


def digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


class PlatformKeySets:
    """Platform JWKS, cached in the shared store for ``ttl`` seconds and re-fetched when an unknown ``kid`` arrives.

    Right after a platform rotates its key, many launches signed with the new key arrive together,
    on several workers. The re-fetch is *single-flight* per key set URL: one worker takes a lock in
    the shared store and fetches; the others wait for the lock to go and then read the refreshed
    cache (they never refuse because someone else won the race). Re-fetches of one key set are at
    most one per ``refetch_interval`` seconds, so a stream of tokens with made-up kids cannot make
    the tool hammer the platform.
    """

    POLL = 0.05  # seconds between looks at the lock while another worker fetches

    def __init__(self, store: KeyValueStore, http: requests.Session, ttl: int, refetch_interval: int = 10, wait: float | None = None) -> None:
        self._store = store
        self._http = http
        self._ttl = ttl
        self._refetch_interval = refetch_interval
        # The longest a launch waits for another worker's fetch: that fetch's own timeout and a margin.
        timeout = getattr(http, "timeout", 10)
        self._wait = wait if wait is not None else float(timeout) + 2.0

    def fetch(self, url: str) -> dict[str, Any]:
        try:
            response = self._http.get(url, headers={"Accept": "application/json"})
        except requests.RequestException as error:
            raise PlatformUnreachable(f"could not fetch the platform's key set from {url}: {error}") from error
        if response.status_code != 200:
            raise PlatformUnreachable(f"the platform's key set URL {url} answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise PlatformUnreachable(f"the platform's key set URL {url} did not return JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get("keys"), list):
            raise PlatformUnreachable(f"the platform's key set at {url} has no 'keys' list")
        self._store.put("jwks:" + digest(url), body, self._ttl)
        return body

    def _cached(self, url: str) -> dict[str, Any] | None:
        cached = self._store.get("jwks:" + digest(url))
        return cached if isinstance(cached, dict) else None

    def refresh(self, url: str) -> dict[str, Any] | None:
        """The key set after a single-flight re-fetch; ``None`` if nothing is cached and no fetch was allowed.

        Whoever adds the lock fetches (if the last re-fetch is older than ``refetch_interval``); everyone
        else waits until the lock is gone and reads the cache the winner wrote.
        """
        lock = "jwks-lock:" + digest(url)
        if self._store.add(lock, True, int(self._wait) + 1):
            try:
                if self._store.add("jwks-recent:" + digest(url), True, self._refetch_interval):
                    return self.fetch(url)
                return self._cached(url)
            finally:
                self._store.delete(lock)
        deadline = time.monotonic() + self._wait
        while time.monotonic() < deadline and self._store.get(lock) is not None:
            time.sleep(self.POLL)
        return self._cached(url)

    def key(self, url: str, kid: str, alg: str) -> jwt.PyJWK:
        cached = self._cached(url)
        keyset = cached if cached is not None else self.fetch(url)
        found = _find_key(keyset, kid)
        if found is None and cached is not None:
            # The platform may have rotated its key: re-fetch (single-flight, rate-limited) and look again.
            refreshed = self.refresh(url)
            found = _find_key(refreshed, kid) if refreshed is not None else None
        if found is None:
            raise PlatformKeyError(f"the platform's key set at {url} has no key with kid {kid!r}; the token is refused")
        if found.get("kty") != "RSA" or found.get("alg", alg) != alg:
            raise InvalidToken(f"key {kid!r} is a {found.get('kty')}/{found.get('alg')} key, but the token says {alg}")
        try:
            return jwt.PyJWK(found, algorithm=alg)
        except (jwt.PyJWKError, jwt.InvalidKeyError) as error:
            raise PlatformKeyError(f"key {kid!r} of the platform's key set is not a usable RSA key: {error}") from error


def _find_key(keyset: Mapping[str, Any], kid: str) -> dict[str, Any] | None:
    for key in keyset.get("keys") or ():
        if isinstance(key, dict) and key.get("kid") == kid:
            return key
    return None
