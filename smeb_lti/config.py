"""``SMEB_*`` environment configuration, validated once at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping


class ConfigError(Exception):
    """The environment configuration is invalid; the message names the variable and what is expected."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    trusted_proxies: int = 0
    """Reverse proxies in front of the tool whose ``X-Forwarded-For``/``-Proto``/``-Host`` are believed.

    0 (the default) believes none: a client could otherwise name any address and escape the per-address login
    limit. Behind one nginx or load balancer set 1, or every client counts as the proxy's one address.
    """

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        data_dir = Path(env.get("SMEB_DATA_DIR", "var")).absolute()
        url = env.get("SMEB_DATABASE_URL") or f"sqlite:///{data_dir / 'smeb.db'}"
        if not url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ConfigError(
                f"SMEB_DATABASE_URL={url!r}: expected sqlite:///PATH or postgresql://USER@HOST:PORT/DB"
            )
        proxies_text = env.get("SMEB_TRUSTED_PROXIES", "0").strip()
        if not proxies_text.isdigit() or int(proxies_text) > 5:
            raise ConfigError(
                f"SMEB_TRUSTED_PROXIES={proxies_text!r}: expected the number of reverse proxies in front of the tool, 0 to 5"
            )
        return cls(data_dir=data_dir, database_url=url, trusted_proxies=int(proxies_text))
