"""Access tokens for AGS and NRPS: pylti1p3's service connector with tokens cached in the tool's store."""

from __future__ import annotations

import typing as t
from typing import Any

import requests
from pylti1p3.exception import LtiServiceException
from pylti1p3.service_connector import ServiceConnector, TServiceConnectorResponse

from smeb_lti.lti.errors import PlatformUnreachable
from smeb_lti.lti.platform_keys import digest
from smeb_lti.lti.storage import KeyValueStore


class ToolServiceConnector(ServiceConnector):
    """pylti1p3's service connector with access tokens cached per (issuer, client id, token URL, scopes).

    The cache is the shared store (not a class attribute of one process), so workers share tokens
    and two tenants on one issuer (Canvas cloud) never get each other's token.
    ``store`` is bound per app by :func:`bind_connector`.
    """

    store: t.ClassVar[KeyValueStore]

    def _scope_key(self, scopes: t.Iterable[str]) -> str:
        reg = self._registration
        return "token:" + digest(
            str(reg.get_issuer()), str(reg.get_client_id()), str(reg.get_auth_token_url()), *sorted(scopes)
        )

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        value = self.store.get(scope_key)
        return value if isinstance(value, str) else None

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        # Keep a margin so a token is never used in its last seconds.
        ttl = int(expires_in or 0) - 30
        if ttl > 0:
            self.store.put(scope_key, access_token, ttl)

    def get_access_token(self, scopes: t.Sequence[str]) -> str:
        try:
            return super().get_access_token(scopes)
        except requests.RequestException as error:
            raise PlatformUnreachable(f"the platform's token endpoint {self._registration.get_auth_token_url()} failed: {error}") from error

    def drop_access_token(self, scopes: t.Iterable[str]) -> None:
        """Forget the cached token for these scopes (the platform refused it), in every worker."""
        self.store.delete(self._scope_key(scopes))

    def make_service_request(self, scopes: t.Sequence[str], url: str, **kwargs: Any) -> TServiceConnectorResponse:
        """A service call (NRPS, AGS reads) that survives a revoked cached token.

        A platform may revoke an access token before its ``expires_in`` (Moodle after a restart of its
        token store, Canvas when a key is rotated): the cached token then gets 401 until it expires, up to
        an hour. On 401 the cached token is dropped, a new one fetched and the request sent once more;
        a second 401 is the platform's real answer and is raised (as AGS does, see smeb_lti/lti/ags.py).
        """
        try:
            return super().make_service_request(scopes, url, **kwargs)
        except LtiServiceException as error:
            if error.response is None or error.response.status_code != 401:
                raise
        self.drop_access_token(scopes)
        return super().make_service_request(scopes, url, **kwargs)


def bind_connector(store: KeyValueStore) -> type[ToolServiceConnector]:
    """A connector class bound to this app's store (pylti1p3 instantiates the class itself)."""
    return type("BoundToolServiceConnector", (ToolServiceConnector,), {"store": store})
