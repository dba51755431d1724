"""Short-lived shared state of the LTI flow: OIDC states, nonces, JWKS and access-token caches.

Never process memory: a login may land on one worker and its launch on another. The
store is the database (table ``lti_kv``) or Redis when ``SMEB_REDIS_URL`` is set.
:meth:`KeyValueStore.consume` is atomic (``DELETE ... RETURNING`` / ``GETDEL``), which is
what makes a nonce single-use even when two workers receive the same id_token at once.

:class:`PylitiStorage` and :class:`PylitiSessionService` adapt the store to pylti1p3's
``LaunchDataStorage``/``SessionService`` so its ``OIDCLogin``/``MessageLaunch`` never touch
the Flask session (a cookie that third-party-cookie blocking would drop).
"""

from __future__ import annotations

import json
import typing as t
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pylti1p3.launch_data_storage.base import LaunchDataStorage
from pylti1p3.session import SessionService
from sqlalchemy import DateTime, Integer, String, Text, cast, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from smeb_lti.db import Base, session_scope


class KvEntry(Base):
    __tablename__ = "lti_kv"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class KeyValueStore(Protocol):
    """JSON values with a time-to-live, shared by every worker."""

    def put(self, key: str, value: Any, ttl: int) -> None: ...

    def add(self, key: str, value: Any, ttl: int) -> bool:
        """Store only if absent; ``False`` if the key exists (and is not expired)."""
        ...

    def get(self, key: str) -> Any | None: ...

    def consume(self, key: str) -> Any | None:
        """Atomically remove and return the value; ``None`` if absent, expired or consumed before."""
        ...

    def delete(self, key: str) -> None: ...

    def hit(self, keys: t.Sequence[str], ttl: int) -> list[int]:
        """Add one to each counter (created at 1 with this time-to-live) and return the new counts, atomically each."""
        ...


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    # SQLite returns naive datetimes even for timezone=True columns.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class DbStore:
    """The store in table ``lti_kv``; expired rows are ignored and purged lazily."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def put(self, key: str, value: Any, ttl: int) -> None:
        with session_scope(self._sessions) as session:
            row = session.get(KvEntry, key)
            if row is None:
                session.add(KvEntry(key=key, value=json.dumps(value), expires_at=_now() + timedelta(seconds=ttl)))
            else:
                row.value = json.dumps(value)
                row.expires_at = _now() + timedelta(seconds=ttl)

    def add(self, key: str, value: Any, ttl: int) -> bool:
        with session_scope(self._sessions) as session:
            session.execute(delete(KvEntry).where(KvEntry.key == key, KvEntry.expires_at <= _now()))
        try:
            with session_scope(self._sessions) as session:
                session.add(KvEntry(key=key, value=json.dumps(value), expires_at=_now() + timedelta(seconds=ttl)))
        except IntegrityError:
            return False
        return True

    def get(self, key: str) -> Any | None:
        with self._sessions() as session:
            row = session.get(KvEntry, key)
            if row is None or _aware(row.expires_at) <= _now():
                return None
            return json.loads(row.value)

    def consume(self, key: str) -> Any | None:
        # One DELETE ... RETURNING statement: of two concurrent consumers only one gets the row.
        with session_scope(self._sessions) as session:
            value = session.execute(
                delete(KvEntry).where(KvEntry.key == key).returning(KvEntry.value, KvEntry.expires_at)
            ).first()
        if value is None or _aware(value[1]) <= _now():
            return None
        return json.loads(value[0])

    def delete(self, key: str) -> None:
        with session_scope(self._sessions) as session:
            session.execute(delete(KvEntry).where(KvEntry.key == key))

    def hit(self, keys: t.Sequence[str], ttl: int) -> list[int]:
        # One upsert per counter (INSERT ... ON CONFLICT DO UPDATE ... RETURNING), all in one transaction:
        # atomic across workers on SQLite and PostgreSQL, one commit per request. Callers put the time
        # window into the key, so an old window's row simply expires and is purged with the rest.
        counts = []
        with session_scope(self._sessions) as session:
            insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
            expires = _now() + timedelta(seconds=ttl)
            for key in keys:
                statement = (
                    insert(KvEntry)
                    .values(key=key, value="1", expires_at=expires)
                    .on_conflict_do_update(
                        index_elements=[KvEntry.key],
                        set_={"value": cast(cast(KvEntry.value, Integer) + 1, String)},
                    )
                    .returning(KvEntry.value)
                )
                counts.append(int(session.execute(statement).scalar_one()))
        return counts

    def purge_expired(self) -> int:
        with session_scope(self._sessions) as session:
            return session.execute(delete(KvEntry).where(KvEntry.expires_at <= _now())).rowcount or 0  # type: ignore[attr-defined]  # a DELETE gives a CursorResult, typed as Result

    def keys(self, prefix: str) -> list[str]:
        """Live keys with this prefix (tests and diagnostics)."""
        with self._sessions() as session:
            return list(session.scalars(select(KvEntry.key).where(KvEntry.key.startswith(prefix), KvEntry.expires_at > _now())))


class RedisStore:
    """The store in Redis (``SMEB_REDIS_URL``); keys are prefixed ``smeb:lti:``."""

    prefix = "smeb:lti:"

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)

    def put(self, key: str, value: Any, ttl: int) -> None:
        self._redis.set(self.prefix + key, json.dumps(value), ex=max(1, ttl))

    def add(self, key: str, value: Any, ttl: int) -> bool:
        return bool(self._redis.set(self.prefix + key, json.dumps(value), ex=max(1, ttl), nx=True))

    def get(self, key: str) -> Any | None:
        raw = self._redis.get(self.prefix + key)
        return None if raw is None else json.loads(raw)

    def consume(self, key: str) -> Any | None:
        raw = self._redis.getdel(self.prefix + key)
        return None if raw is None else json.loads(raw)

    def delete(self, key: str) -> None:
        self._redis.delete(self.prefix + key)

    def hit(self, keys: t.Sequence[str], ttl: int) -> list[int]:
        pipe = self._redis.pipeline()
        for key in keys:
            pipe.set(self.prefix + key, 0, ex=max(1, ttl), nx=True)  # the window starts with its first hit
            pipe.incr(self.prefix + key)
        return [int(v) for v in pipe.execute()[1::2]]

    def keys(self, prefix: str) -> list[str]:
        return [k.decode()[len(self.prefix) :] for k in self._redis.scan_iter(self.prefix + prefix + "*")]

    def close(self) -> None:
        self._redis.close()


class PylitiStorage(LaunchDataStorage[Any]):
    """pylti1p3's launch-data storage over a :class:`KeyValueStore`.

    No session cookie: keys are bound to server-side state (the OIDC state and the nonce),
    not to a browser cookie that an iframe without third-party cookies would not send.
    """

    def __init__(self, store: KeyValueStore) -> None:
        super().__init__()
        self._store = store

    def get_session_cookie_name(self) -> None:
        return None

    def can_set_keys_expiration(self) -> bool:
        return True

    def get_value(self, key: str) -> Any:
        return self._store.get(self._prepare_key(key))

    def set_value(self, key: str, value: Any, exp: int | None = None) -> None:
        self._store.put(self._prepare_key(key), value, exp or 3600)

    def check_value(self, key: str) -> bool:
        return self._store.get(self._prepare_key(key)) is not None

    def consume_value(self, key: str) -> Any:
        return self._store.consume(self._prepare_key(key))


class PylitiSessionService(SessionService):
    """pylti1p3's session service with a nonce that can be used once only (pylti1p3 accepts it for 24 h)."""

    _launch_data_lifetime = 600  # nonces: a login must complete within 10 minutes

    def __init__(self, storage: PylitiStorage) -> None:
        self.data_storage = storage
        self.launch_loader: t.Callable[[str], t.Mapping[str, Any]] | None = None

    def get_launch_data(self, key: str) -> t.Mapping[str, Any]:
        # Launches live in table lti_launches (see smeb_lti.lti.launches), not in the short-lived store.
        if self.launch_loader is not None:
            return self.launch_loader(key)
        return super().get_launch_data(key)

    def check_nonce(self, nonce: str) -> bool:
        storage = t.cast(PylitiStorage, self.data_storage)
        return storage.consume_value(self._get_key("nonce", nonce)) is not None
