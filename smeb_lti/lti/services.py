"""The LTI layer's composition root: one :class:`LtiServices` per app, built by :func:`smeb_lti.lti.routes.init_app`.

It holds configuration and connections only (database sessions, the shared store, an HTTP
session with timeouts), never launch state, so any worker can serve any request.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from cryptography.fernet import Fernet
from flask import Flask, current_app
from pylti1p3.contrib.flask import FlaskRequest
from sqlalchemy.orm import Session, sessionmaker

from smeb_lti.lti import launches
from smeb_lti.lti.platform_keys import PlatformKeySets, TimeoutSession
from smeb_lti.lti.ratelimit import LoginLimiter
from smeb_lti.lti.service_connector import ToolServiceConnector, bind_connector
from smeb_lti.lti.storage import (
    DbStore,
    KeyValueStore,
    PylitiSessionService,
    PylitiStorage,
    RedisStore,
)
from smeb_lti.lti.tool_conf import DbToolConf
from smeb_lti.lti.validation import ToolMessageLaunch
from smeb_lti.settings import Settings


@dataclass
class LtiServices:
    settings: Settings
    sessions: sessionmaker[Session]
    store: KeyValueStore
    fernet: Fernet
    http: TimeoutSession
    key_sets: PlatformKeySets
    tool_conf: DbToolConf
    connector_cls: type[ToolServiceConnector]
    login_limiter: LoginLimiter

    @classmethod
    def build(cls, settings: Settings, sessions: sessionmaker[Session]) -> LtiServices:
        store: KeyValueStore = RedisStore(settings.redis_url) if settings.redis_url else DbStore(sessions)
        fernet = Fernet(settings.fernet_key().encode("ascii"))
        http = TimeoutSession(settings.http_timeout)
        return cls(
            settings=settings,
            sessions=sessions,
            store=store,
            fernet=fernet,
            http=http,
            key_sets=PlatformKeySets(store, http, settings.jwks_ttl, settings.jwks_refetch_interval),
            tool_conf=DbToolConf(sessions, fernet),
            connector_cls=bind_connector(store),
            login_limiter=LoginLimiter(store, settings.login_rate_per_address, settings.login_rate_per_issuer),
        )

    def session_service(self) -> PylitiSessionService:
        service = PylitiSessionService(PylitiStorage(self.store))
        service.launch_loader = self._load_claims
        return service

    def _load_claims(self, launch_id: str) -> dict[str, t.Any]:
        with self.sessions() as session:
            return launches.get_claims(session, launch_id)

    def message_launch(self, request: FlaskRequest) -> ToolMessageLaunch:
        return ToolMessageLaunch(
            request,
            self.tool_conf,
            session_service=self.session_service(),
            launch_data_storage=PylitiStorage(self.store),
            requests_session=self.http,
            service_connector_cls=self.connector_cls,
            key_sets=self.key_sets,
            max_token_lifetime=self.settings.max_token_lifetime,
        )

    def restore(self, launch_id: str) -> ToolMessageLaunch:
        """pylti1p3's ``MessageLaunch.from_cache`` for a stored launch, able to call AGS and NRPS.

        Use it inside a request: ``lti_services().restore(launch_id).get_ags().put_grade(...)``.
        Raises :class:`~smeb_lti.lti.errors.LaunchNotFound` for an unknown or expired launch.
        """
        with self.sessions() as session:
            launches.get_claims(session, launch_id)  # 404 before pylti1p3's bare LtiException
        return t.cast(
            ToolMessageLaunch,
            ToolMessageLaunch.from_cache(
                launch_id,
                FlaskRequest(session={}, request_data={"_": ""}),
                self.tool_conf,
                session_service=self.session_service(),
                launch_data_storage=PylitiStorage(self.store),
                requests_session=self.http,
                service_connector_cls=self.connector_cls,
            ),
        )

    def public_url(self, url_root: str) -> str:
        """The tool's base URL: ``SMEB_PUBLIC_URL`` if set, else the request's root."""
        return self.settings.public_url or url_root.rstrip("/")


def lti_services(app: Flask | None = None) -> LtiServices:
    return t.cast(LtiServices, (app or current_app).extensions["smeb.lti"])
