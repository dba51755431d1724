"""Reading and deleting a learner's rows in any table, as the migrations made it."""

from __future__ import annotations

import base64
import datetime as dt
import json
import weakref
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.privacy.subject import SubjectRef

_REFLECTED: weakref.WeakKeyDictionary[Any, dict[str, sa.Table]] = weakref.WeakKeyDictionary()


def reflected(session: Session, name: str) -> sa.Table:
    """The table as the migrations made it (reflected once per engine, so every column is exported)."""
    engine = session.get_bind()
    tables = _REFLECTED.setdefault(engine, {})
    if name not in tables:
        tables[name] = sa.Table(name, sa.MetaData(), autoload_with=session.connection())
    return tables[name]


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (bytes, memoryview)):
        data = bytes(value)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(data).decode("ascii")}
    return value


def as_dicts(rows: Iterable[Any], *, parse: Sequence[str] = (), drop: Sequence[str] = ()) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        item = {k: _plain(v) for k, v in row._mapping.items() if k not in drop}
        for key in parse:
            if isinstance(item.get(key), str):
                try:
                    item[key] = json.loads(item[key])
                except ValueError:
                    pass
        out.append(item)
    return out


def rowcount(result: Any) -> int:
    return int(result.rowcount or 0)


def in_chunks(values: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def learner_rows(session: Session, ref: SubjectRef, name: str) -> tuple[sa.Table, sa.ColumnElement[bool]]:
    """A table keyed by (registration_id, subject) and the condition for this learner's rows."""
    table = reflected(session, name)
    return table, sa.and_(table.c.registration_id.in_(ref.registration_ids), table.c.subject == ref.subject)
