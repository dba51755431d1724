"""A real Moodle 5.0.6+ (../shared/moodle) on 127.0.0.1 for the tests, and the SMEB tool beside it.

The first start in a checkout unpacks the tarball into ``var/test-moodle/`` and installs Moodle
into a throw-away PostgreSQL database (40-140 s); it then keeps a snapshot (``pg_dump`` file, a
template database and the copied ``moodledata``) so every later start takes seconds. One
``config.php`` serves every session: it reads the database, data directory and wwwroot from
``SMEB_MOODLE_*`` environment variables, so sessions of several helpers can run side by side on
their own ports and databases over the one unpacked tree.

Nothing here skips: if Moodle cannot be installed or started, the caller gets an error with the
log.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg

from tests.support import pg
from tests.support.node import run_node

REPO = Path(__file__).resolve().parents[3]
SHARED = REPO.parent / "shared"
TARBALL = SHARED / "moodle" / "moodle-5.0.6plus.tar.xz"
CACHE = REPO / "var" / "test-moodle"
JS = Path(__file__).resolve().parent / "js"
SCREENSHOTS = REPO / "docs" / "img" / "moodle"
# Bump when what the snapshot holds changes (install options, post-install settings).
SNAPSHOT_VERSION = "4"
# The snapshot is installed (and its theme CSS compiled, 20-60 s) for this wwwroot; a session serves on another
# five-digit port and rewrites the address in the copied caches byte for byte: same length, so PHP's serialized
# cache entries stay valid, and no session pays for compiling the theme again.
SNAPSHOT_HOST = "127.0.0.1:10000"
ADMIN_USER = "admin"
ADMIN_PASSWORD = "Admin-pass-1!"
USER_PASSWORD = "Test-pass-1!"
INSTALL_TIMEOUT = 600.0
START_TIMEOUT = 120.0
PHP_TIMEOUT = 300.0
DRIVER_TIMEOUT = 540.0
# Servers run under coreutils' `timeout`: they stop themselves even if pytest is killed.
LIFETIME = ["timeout", "--kill-after=30", "3600"]

PHP_INI = """\
; What Moodle 5.0 wants (../shared/moodle/README.md).
max_input_vars = 5000
memory_limit = 512M
post_max_size = 64M
upload_max_filesize = 64M
"""

# The one config.php: every value from the environment the harness sets (server and CLI alike).
CONFIG_PHP = r"""<?php  // Written by tests/e2e/moodle/harness.py: one tree, a database and wwwroot per test session.
unset($CFG);
global $CFG;
$CFG = new stdClass();
foreach (['SMEB_MOODLE_WWWROOT', 'SMEB_MOODLE_DATAROOT', 'SMEB_MOODLE_DBNAME', 'SMEB_MOODLE_DBHOST'] as $smebname) {
    if (getenv($smebname) === false) {
        fwrite(STDERR, "config.php: $smebname is not set (start Moodle through tests/e2e/moodle/harness.py)\n");
        exit(1);
    }
}
$CFG->dbtype    = 'pgsql';
$CFG->dblibrary = 'native';
$CFG->dbhost    = getenv('SMEB_MOODLE_DBHOST');
$CFG->dbname    = getenv('SMEB_MOODLE_DBNAME');
$CFG->dbuser    = getenv('SMEB_MOODLE_DBUSER');
$CFG->dbpass    = getenv('SMEB_MOODLE_DBPASS');
$CFG->prefix    = 'mdl_';
$CFG->dboptions = ['dbpersist' => 0, 'dbport' => getenv('SMEB_MOODLE_DBPORT'), 'dbsocket' => ''];
$CFG->wwwroot   = getenv('SMEB_MOODLE_WWWROOT');
$CFG->dataroot  = getenv('SMEB_MOODLE_DATAROOT');
$CFG->admin     = 'admin';
$CFG->directorypermissions = 02777;
// Loopback only: Moodle's curl must reach the tool on 127.0.0.1 (keys, registration), and no mail leaves.
$CFG->curlsecurityblockedhosts = '';
$CFG->curlsecurityallowedport = '';
$CFG->noemailever = true;
require_once(__DIR__ . '/lib/setup.php');
"""

# Run after install, before the snapshot: what makes a fresh site usable by tests without clicks
# that are not part of any flow we test (guided tours over the page, the admin's welcome).
POST_INSTALL_PHP = r"""
$DB->set_field('tool_usertours_tours', 'enabled', 0);
set_config('enableuserfeedback', 0);
set_config('enablecourserelativedates', 0);
set_config('showservicesandsupportcontent', 0);
set_config('enableanalytics', 0);
set_config('site_registered', 1, 'hub');
return ['tours' => $DB->count_records('tool_usertours_tours', ['enabled' => 1])];
"""


class MoodleError(RuntimeError):
    """Moodle could not be unpacked, installed, started or asked: the message carries its output."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_like_snapshot() -> int:
    """A free port with as many digits as the snapshot's (see SNAPSHOT_HOST)."""
    width = len(SNAPSHOT_HOST.rsplit(":", 1)[1])
    for _ in range(100):
        port = free_port()
        if len(str(port)) == width:
            return port
    raise MoodleError(f"found no free {width}-digit port on 127.0.0.1")


def _rewrite_host(dataroot: Path, host: str) -> int:
    """Replace the snapshot's host:port by ``host`` in the copied caches (same length); the number of files changed."""
    old, new = SNAPSHOT_HOST.encode(), host.encode()
    assert len(old) == len(new), (old, new)
    pairs = [(old, new), (old.replace(b":", b"%3A"), new.replace(b":", b"%3A")), (old.replace(b":", b"\\:"), new.replace(b":", b"\\:"))]
    changed = 0
    for folder in ("localcache", "cache"):
        for path in (dataroot / folder).rglob("*"):
            if not path.is_file():
                continue
            data = path.read_bytes()
            if old not in data and pairs[1][0] not in data:
                continue
            for a, b in pairs:
                data = data.replace(a, b)
            path.write_bytes(data)
            changed += 1
    return changed


def _tail(path: Path, chars: int = 6000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return f"(no log at {path})"


@contextmanager
def _locked(name: str) -> Iterator[None]:
    """One session at a time unpacks, installs or restores (helpers share the checkout)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _source_stamp() -> str:
    if not TARBALL.is_file():
        raise MoodleError(f"the Moodle tarball is missing: expected {TARBALL} (../shared/moodle beside the checkout)")
    stat = TARBALL.stat()
    return f"{TARBALL.name}:{stat.st_size}:{int(stat.st_mtime)}"


def unpack() -> Path:
    """``var/test-moodle/moodle``, unpacked from the tarball once (again when the tarball changes)."""
    dirroot = CACHE / "moodle"
    stamp_file = CACHE / "moodle.source"
    stamp = _source_stamp()
    with _locked("unpack"):
        if not (dirroot / "version.php").is_file() or not stamp_file.is_file() or stamp_file.read_text() != stamp:
            shutil.rmtree(dirroot, ignore_errors=True)
            scratch = Path(tempfile.mkdtemp(prefix="unpack-", dir=CACHE))
            try:
                subprocess.run(["tar", "-xJf", str(TARBALL), "-C", str(scratch)], check=True, capture_output=True)
                (scratch / "moodle").rename(dirroot)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            stamp_file.write_text(stamp)
        config = dirroot / "config.php"
        if not config.is_file() or config.read_text() != CONFIG_PHP:
            config.write_text(CONFIG_PHP)
        ini_dir = CACHE / "php"
        ini_dir.mkdir(exist_ok=True)
        if not (ini_dir / "moodle.ini").is_file() or (ini_dir / "moodle.ini").read_text() != PHP_INI:
            (ini_dir / "moodle.ini").write_text(PHP_INI)
    return dirroot


@dataclass(frozen=True)
class Database:
    host: str
    port: int
    user: str
    password: str
    name: str

    @classmethod
    def on(cls, server: pg.PgServer, name: str) -> Database:
        parts = urlsplit(server.admin_url)
        return cls(parts.hostname or "127.0.0.1", parts.port or 5432, parts.username or "postgres", parts.password or "", name)

    def env(self) -> dict[str, str]:
        return {"SMEB_MOODLE_DBHOST": self.host, "SMEB_MOODLE_DBPORT": str(self.port), "SMEB_MOODLE_DBUSER": self.user,
                "SMEB_MOODLE_DBPASS": self.password, "SMEB_MOODLE_DBNAME": self.name}

    def libpq(self) -> dict[str, str]:
        return {"PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": self.user, "PGPASSWORD": self.password}

    def url(self) -> str:
        auth = self.user + (f":{self.password}" if self.password else "")
        return f"postgresql://{auth}@{self.host}:{self.port}/{self.name}"


def _php_env(dirroot: Path, db: Database, dataroot: Path, wwwroot: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMEB_", "PG"))}
    env.update(db.env(), SMEB_MOODLE_WWWROOT=wwwroot, SMEB_MOODLE_DATAROOT=str(dataroot),
               PHP_INI_SCAN_DIR=":" + str(CACHE / "php"))
    return env


def _admin(server: pg.PgServer) -> psycopg.Connection[Any]:
    return psycopg.connect(server.admin_url, autocommit=True)


def _exists(server: pg.PgServer, name: str) -> bool:
    with _admin(server) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def _snapshot_key() -> str:
    # The checkout's path too: a template database is paired with this checkout's copied moodledata.
    return hashlib.sha256(f"{SNAPSHOT_VERSION}|{_source_stamp()}|{CACHE}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Snapshot:
    dir: Path
    template: str  # the template database's name on the PostgreSQL server

    @property
    def dump(self) -> Path:
        return self.dir / "moodle.dump"

    @property
    def dataroot(self) -> Path:
        return self.dir / "moodledata"


@dataclass
class Timings:
    """Seconds spent getting Moodle up in this session (reported by the tests)."""

    unpack: float = 0.0
    install: float = 0.0
    restore: float = 0.0
    start: float = 0.0
    notes: list[str] = field(default_factory=list)


def run_php_file(script: Path, env: Mapping[str, str], args: list[str] | None = None, stdin: str | None = None,
                 timeout: float = PHP_TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["php", str(script), *(args or [])], env=dict(env), input=stdin, capture_output=True, text=True,
                          timeout=timeout, cwd=str(script.parent))


def _snippet_file(dirroot: Path, code: str) -> Path:
    """A PHP CLI script around ``code`` (a function body that ``return``s a JSON-able value; ``$ARGS`` holds the arguments)."""
    body = (
        "<?php\n"
        "define('CLI_SCRIPT', true);\n"
        f"require {json.dumps(str(dirroot / 'config.php'))};\n"
        "require_once($CFG->libdir . '/clilib.php');\n"
        "\\core\\session\\manager::set_user(get_admin());\n"
        "$ARGS = json_decode(stream_get_contents(STDIN), true);\n"
        "$smebresult = (function () use ($ARGS) {\n"
        "    global $CFG, $DB, $USER, $SITE, $PAGE, $OUTPUT;\n"
        f"{code}\n"
        "})();\n"
        "echo \"\\n@@SMEB-JSON@@\", json_encode($smebresult, JSON_PARTIAL_OUTPUT_ON_ERROR), \"\\n\";\n"
    )
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    folder = CACHE / "snippets"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}.php"
    if not path.is_file():
        tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
        tmp.write_text(body)
        tmp.rename(path)
    return path


def php_json(dirroot: Path, env: Mapping[str, str], code: str, args: Any = None, timeout: float = PHP_TIMEOUT) -> Any:
    """Run ``code`` as the site admin in a PHP CLI against Moodle; its return value, decoded from JSON."""
    script = _snippet_file(dirroot, code)
    done = run_php_file(script, env, stdin=json.dumps(args if args is not None else {}), timeout=timeout)
    marker = "@@SMEB-JSON@@"
    if done.returncode != 0 or marker not in done.stdout:
        raise MoodleError(
            f"PHP snippet failed (exit {done.returncode}):\n--- code ---\n{code.strip()[:2000]}\n--- stdout ---\n"
            f"{done.stdout[-4000:]}\n--- stderr ---\n{done.stderr[-4000:]}"
        )
    return json.loads(done.stdout.rsplit(marker, 1)[1].strip())


def _install(server: pg.PgServer, dirroot: Path, snapshot: Snapshot, timings: Timings) -> None:
    """Install Moodle into a fresh database, then keep it as the snapshot (dump, template, moodledata)."""
    started = time.monotonic()
    name = f"smeb_moodle_install_{uuid.uuid4().hex[:8]}"
    with _admin(server) as conn:
        conn.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
    db = Database.on(server, name)
    work = Path(tempfile.mkdtemp(prefix="install-", dir=CACHE))
    dataroot = work / "moodledata"
    dataroot.mkdir()
    env = _php_env(dirroot, db, dataroot, "http://" + SNAPSHOT_HOST)
    log = CACHE / "install.log"
    try:
        done = run_php_file(
            dirroot / "admin" / "cli" / "install_database.php", env,
            ["--agree-license", "--lang=en", f"--adminuser={ADMIN_USER}", f"--adminpass={ADMIN_PASSWORD}",
             "--adminemail=admin@example.com", "--supportemail=admin@example.com", "--fullname=SMEB test Moodle",
             "--shortname=smebtest"],
            timeout=INSTALL_TIMEOUT,
        )
        log.write_text(done.stdout + "\n--- stderr ---\n" + done.stderr)
        if done.returncode != 0:
            raise MoodleError(f"Moodle's install_database.php failed (exit {done.returncode}); log {log}:\n{_tail(log)}")
        php_json(dirroot, env, POST_INSTALL_PHP)
        built = run_php_file(dirroot / "admin" / "cli" / "build_theme_css.php", env, ["--themes=boost", "--direction=ltr"],
                             timeout=INSTALL_TIMEOUT)
        if built.returncode != 0:
            raise MoodleError(f"build_theme_css.php failed:\n{built.stdout[-3000:]}\n{built.stderr[-3000:]}")
        snapshot.dir.mkdir(parents=True, exist_ok=True)
        subprocess.run([pg._bin("pg_dump"), "-Fc", "-f", str(snapshot.dump), "-d", name], env={**os.environ, **db.libpq()},
                       check=True, capture_output=True)
        shutil.rmtree(snapshot.dataroot, ignore_errors=True)
        # Caches travel (their address is rewritten per session); sessions and locks must not.
        shutil.copytree(dataroot, snapshot.dataroot, symlinks=True,
                        ignore=shutil.ignore_patterns("sessions", "lock", "trashdir", "temp"))
        with _admin(server) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{snapshot.template}" WITH (FORCE)')
            conn.execute(f'ALTER DATABASE "{name}" RENAME TO "{snapshot.template}"')
        (snapshot.dir / "ok").write_text(_snapshot_key())
        for stale in CACHE.glob("snapshot-*"):  # snapshots of an older SNAPSHOT_VERSION or tarball, and their templates
            if stale != snapshot.dir:
                shutil.rmtree(stale, ignore_errors=True)
                with _admin(server) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "smeb_moodle_tpl_{stale.name.split("-", 1)[1]}" WITH (FORCE)')
    except BaseException:
        pg.PgServer.drop_database(server, db.url())
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    timings.install = time.monotonic() - started


def _ensure_template(server: pg.PgServer, snapshot: Snapshot) -> None:
    """The template database on this server, restored from the dump when the server does not hold it (a fresh cluster)."""
    if _exists(server, snapshot.template):
        return
    name = f"smeb_moodle_restore_{uuid.uuid4().hex[:8]}"
    with _admin(server) as conn:
        conn.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
    db = Database.on(server, name)
    done = subprocess.run([pg._bin("pg_restore"), "--no-owner", "-d", name, str(snapshot.dump)],
                          env={**os.environ, **db.libpq()}, capture_output=True, text=True)
    if done.returncode != 0:
        pg.PgServer.drop_database(server, db.url())
        raise MoodleError(f"pg_restore of {snapshot.dump} failed:\n{done.stderr[-4000:]}")
    with _admin(server) as conn:
        conn.execute(f'ALTER DATABASE "{name}" RENAME TO "{snapshot.template}"')


@dataclass
class Moodle:
    """A running Moodle: its URL, tree, data directory, database and server process group."""

    url: str
    dirroot: Path
    dataroot: Path
    db: Database
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None
    timings: Timings
    admin_user: str = ADMIN_USER
    admin_password: str = ADMIN_PASSWORD

    def php(self, code: str, args: Any = None, timeout: float = PHP_TIMEOUT) -> Any:
        """Run a PHP snippet (a function body; ``$ARGS`` holds ``args``) as the admin; returns its JSON result."""
        return php_json(self.dirroot, self.env, code, args, timeout)

    def sql(self, query: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        """Rows of a read query on Moodle's database (tables are ``mdl_*``)."""
        with psycopg.connect(self.db.url(), autocommit=True) as conn:
            cursor = conn.execute(query, params)  # type: ignore[arg-type]
            names = [d.name for d in cursor.description or ()]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

    def alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise MoodleError(f"Moodle's PHP server exited with {self.process.returncode}:\n{_tail(self.log)}")

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        try:  # the workers of `php -S` are in the same group; make sure none outlives the master
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process = None


def check_php() -> None:
    """PHP and the modules Moodle needs, or an error that says how to get them."""
    needed = ("pgsql", "xml", "mbstring", "curl", "zip", "gd", "intl", "soap")
    php = shutil.which("php")
    modules = subprocess.run([php, "-m"], capture_output=True, text=True).stdout.lower().split() if php else []
    missing = [m for m in needed if m not in modules and not (m == "xml" and "dom" in modules)]
    if not php or missing:
        raise MoodleError(
            f"PHP {'is not installed' if not php else 'lacks ' + ', '.join(missing)}: run `bash scripts/bootstrap.sh --test` "
            "(Debian's php-cli php-pgsql php-xml php-mbstring php-curl php-zip php-gd php-intl php-soap php-bcmath php-readline)"
        )


def start_moodle(server: pg.PgServer, workdir: Path) -> Moodle:
    """Unpack (once), install (once per checkout), restore the snapshot into a fresh database and serve it."""
    check_php()
    timings = Timings()
    t0 = time.monotonic()
    dirroot = unpack()
    timings.unpack = time.monotonic() - t0
    key = _snapshot_key()
    snapshot = Snapshot(CACHE / f"snapshot-{key}", f"smeb_moodle_tpl_{key}")
    with _locked("install"):
        if not (snapshot.dir / "ok").is_file():
            _install(server, dirroot, snapshot, timings)
        t1 = time.monotonic()
        _ensure_template(server, snapshot)
        name = f"smeb_moodle_{uuid.uuid4().hex[:12]}"
        with _admin(server) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{snapshot.template}"')
        dataroot = workdir / "moodledata"
        shutil.copytree(snapshot.dataroot, dataroot, symlinks=True)
    db = Database.on(server, name)
    timings.restore = time.monotonic() - t1
    t2 = time.monotonic()
    port = free_port_like_snapshot()
    url = f"http://127.0.0.1:{port}"
    env = _php_env(dirroot, db, dataroot, url)
    log = workdir / "php-server.log"
    moodle = Moodle(url, dirroot, dataroot, db, env, log, None, timings)
    try:
        _rewrite_host(dataroot, f"127.0.0.1:{port}")
        with psycopg.connect(db.url(), autocommit=True) as conn:  # the site's own MNet host record names its wwwroot
            conn.execute("UPDATE mdl_mnet_host SET wwwroot = %s WHERE wwwroot = %s", (url, "http://" + SNAPSHOT_HOST))
        server_env = {**env, "PHP_CLI_SERVER_WORKERS": "4"}
        with open(log, "wb") as out:
            moodle.process = subprocess.Popen(
                [*LIFETIME, "php", "-d", "opcache.enable_cli=1", "-d", "opcache.validate_timestamps=0", "-S", f"127.0.0.1:{port}",
                 "-t", str(dirroot)],
                env=server_env, cwd=str(dirroot), stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            moodle.alive()
            try:
                response = httpx.get(url + "/login/index.php", timeout=30)
                if response.status_code == 200 and "username" in response.text:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise MoodleError(f"Moodle did not answer on {url}/login/index.php within {START_TIMEOUT:.0f} s:\n{_tail(log)}")
            time.sleep(0.3)
    except BaseException:
        moodle.stop()
        pg.PgServer.drop_database(server, db.url())
        raise
    timings.start = time.monotonic() - t2
    return moodle


# --- the SMEB tool -----------------------------------------------------------------------------


@dataclass
class SmebTool:
    """The SMEB tool under gunicorn on 127.0.0.1 with its own data directory (SQLite) and the shipped courses."""

    url: str
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.data_dir / "gunicorn.log"

    def smeb(self, *args: str, check: bool = True, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
        """Run a ``smeb`` command against this tool's data (``tool.smeb("outbox", "parked")``)."""
        done = subprocess.run([sys.executable, "-m", "smeb_lti", *args], env=self.env, cwd=str(self.data_dir),
                              capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"smeb {' '.join(args)} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    def run_ags(self) -> str:
        """Post the queued grades to the LMSs now (``smeb ags-worker --once``); its summary line."""
        return self.smeb("ags-worker", "--once", check=False).stdout.strip()

    def run_statements(self) -> str:
        """Deliver queued xAPI statements now (``smeb worker --once``)."""
        return self.smeb("worker", "--once", check=False).stdout.strip()

    def register_url(self, *extra: str) -> str:
        """A one-time registration URL, exactly as the operator gets it (docs/lti.md)."""
        done = self.smeb("platform", "register-url", "--base-url", self.url, *extra)
        return done.stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None


def tool_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMEB_")}
    env.update(SMEB_DATA_DIR=str(data_dir), SMEB_ENV="development", PYTHONPATH=str(REPO), **extra)
    return env


def start_tool(data_dir: Path, **extra_env: str) -> SmebTool:
    port = free_port()
    tool = SmebTool(f"http://127.0.0.1:{port}", data_dir, tool_env(data_dir, **extra_env))
    tool.smeb("courses", "install", "--shipped")
    with open(data_dir / "gunicorn.out", "wb") as out:
        tool.process = subprocess.Popen(
            [*LIFETIME, sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--access-logfile",
             str(data_dir / "access.log"), "--error-logfile", str(tool.log), "smeb_lti.app:create_app()"],
            env=tool.env, cwd=str(data_dir), stdout=out, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if tool.process.poll() is not None:
            raise AssertionError(f"the SMEB tool exited with {tool.process.returncode}:\n{_tail(tool.log)}")
        try:
            if httpx.get(tool.url + "/.well-known/jwks.json", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            tool.stop()
            raise AssertionError(f"the SMEB tool did not start within {START_TIMEOUT:.0f} s:\n{_tail(tool.log)}")
        time.sleep(0.2)
    return tool


# --- node drivers ------------------------------------------------------------------------------


def run_driver(script: str | Path, options: Mapping[str, Any], timeout: float = DRIVER_TIMEOUT) -> dict[str, Any]:
    """Run a node driver (``tests/e2e/moodle/js/<script>`` or a path) with JSON options; its JSON stdout."""
    path = Path(script) if Path(script).is_absolute() else JS / script
    return run_node(path, dict(options), timeout=timeout)  # type: ignore[no-any-return]
