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

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        data_dir = Path(env.get("SMEB_DATA_DIR", "var")).absolute()
        url = env.get("SMEB_DATABASE_URL") or f"sqlite:///{data_dir / 'smeb.db'}"
        if not url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ConfigError(
                f"SMEB_DATABASE_URL={url!r}: expected sqlite:///PATH or postgresql://USER@HOST:PORT/DB"
            )
        return cls(data_dir=data_dir, database_url=url)
