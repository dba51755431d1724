"""The stores of learner data: each part adds its export and erase here from its ``init_app``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from smeb_lti.privacy.subject import SubjectRef


@dataclass(frozen=True)
class Store:
    """One store of learner data: its name in the export and the receipt, and its two functions."""

    name: str
    export: Callable[[Session, SubjectRef], dict[str, Any]]
    erase: Callable[[Session, SubjectRef], int]


# Order matters for erasure: the LRS first (it looks up the xAPI registrations in the progress rows), the
# certificates last (the outbox finds their statements by certificate id). Names only, so that this module
# imports no part; a part that holds learner data must appear here, or its store is refused.
ERASURE_ORDER: tuple[str, ...] = (
    "lrs", "lti_launches", "lti_kv", "play", "ags_scores", "dashboard", "journal", "forum", "surveys", "workshops",
    "outbox", "pseudonym_links", "certificates",
)

_registered: dict[str, Store] = {}


def register(*stores: Store) -> None:
    """Add a part's stores (again on every ``init_app``: the same name replaces the earlier entry)."""
    for store in stores:
        if store.name not in ERASURE_ORDER:
            raise ValueError(f"privacy store {store.name!r} has no place in ERASURE_ORDER (smeb_lti/privacy/registry.py)")
        _registered[store.name] = store


def stores(own: Iterable[Store] = ()) -> tuple[Store, ...]:
    """Every store in erasure order: the parts' and ``own`` (the privacy package's); all must be there."""
    found = {**_registered, **{store.name: store for store in own}}
    missing = [name for name in ERASURE_ORDER if name not in found]
    if missing:
        raise RuntimeError(f"no privacy store registered for {', '.join(missing)}: was that part's init_app called?")
    return tuple(found[name] for name in ERASURE_ORDER)
