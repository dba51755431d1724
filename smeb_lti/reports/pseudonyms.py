"""Join a company's records from before per-customer pseudonyms to its records after (``--pseudonym-links``).

``smeb learner pseudonym-links --issuer I --context-id X > links.csv`` writes one company's links (old
one-per-LMS account name -> that company's account name, docs/privacy.md). A report given that file
counts a learner's old and new statements as one learner: an old name that maps to exactly one new
name in the file is replaced by it; an old name that maps to several (the file mixes companies) is left
alone, so two companies' learners are never merged.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["PseudonymLinksError", "canonical_actors", "read_links"]

COLUMNS = ("legacy_name", "actor_name")


class PseudonymLinksError(ValueError):
    """The links file is not what ``smeb learner pseudonym-links`` writes; the message names the file and line."""


def read_links(path: Path) -> dict[str, str]:
    """Old name -> new name, for the old names with exactly one new name in the file."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not set(COLUMNS) <= set(reader.fieldnames):
                raise PseudonymLinksError(f"{path}: expected the columns {list(COLUMNS)} (from `smeb learner pseudonym-links`)")
            seen: dict[str, set[str]] = {}
            for number, row in enumerate(reader, start=2):
                old, new = (row.get("legacy_name") or "").strip(), (row.get("actor_name") or "").strip()
                if not old or not new:
                    raise PseudonymLinksError(f"{path}:{number}: legacy_name and actor_name must both be set")
                seen.setdefault(old, set()).add(new)
    except OSError as error:
        raise PseudonymLinksError(f"{path}: cannot read it ({error.strerror})") from error
    return {old: next(iter(news)) for old, news in seen.items() if len(news) == 1}


def canonical_actors(statements: Iterable[dict[str, Any]], links: dict[str, str]) -> Iterator[dict[str, Any]]:
    """The statements, with an old actor account name replaced by the company's current one (copies; inputs unchanged)."""
    for statement in statements:
        actor = statement.get("actor")
        account = actor.get("account") if isinstance(actor, dict) else None
        name = account.get("name") if isinstance(account, dict) else None
        if isinstance(name, str) and name in links:
            statement = {**statement, "actor": {**actor, "account": {**account, "name": links[name]}}}  # type: ignore[dict-item]  # the statement is JSON: actor and account were checked to be dicts above
        yield statement
