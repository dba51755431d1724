"""A PostgreSQL server for the tests: the machine's one on 127.0.0.1:5432, or a throw-away cluster.

Never skips: if no server answers and no binaries are installed, the tests fail
with a message that says how to install them.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass

import psycopg

ADMIN_URL = os.environ.get("SMEB_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass
class PgServer:
    admin_url: str
    process_dir: str | None = None
    pid: int | None = None

    def create_database(self) -> str:
        name = f"smeb_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.admin_url.rsplit("/", 1)[0] + "/" + name

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.process_dir:
            subprocess.run([_bin("pg_ctl"), "-D", self.process_dir, "-m", "immediate", "stop"], capture_output=True)
            shutil.rmtree(self.process_dir, ignore_errors=True)


def _reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path:
        return path
    raise RuntimeError(
        f"PostgreSQL is not reachable at {ADMIN_URL} and '{name}' is not installed; "
        "install it with `apt-get install -y postgresql` (the README's test command does this)"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start() -> PgServer:
    """The machine's PostgreSQL if it answers, else a throw-away cluster on a free loopback port."""
    if _reachable(ADMIN_URL):
        return PgServer(ADMIN_URL)
    data = tempfile.mkdtemp(prefix="smeb-pg-")
    port = _free_port()
    user = []
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres user
        shutil.chown(data, "postgres", "postgres")
        user = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*user, _bin("initdb"), "-D", data, "-A", "trust", "-U", "postgres"], check=True, capture_output=True)
    subprocess.run(
        [*user, _bin("pg_ctl"), "-D", data, "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "-w", "start", "-l", f"{data}/log"],
        check=True,
        capture_output=True,
    )
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    for _ in range(50):
        if _reachable(url):
            break
        time.sleep(0.2)
    else:
        raise RuntimeError(f"throw-away PostgreSQL in {data} did not start; see {data}/log")
    return PgServer(url, process_dir=data)
