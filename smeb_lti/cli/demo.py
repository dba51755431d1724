"""``smeb demo`` (tool + demo LMS, registered with each other), ``smeb serve`` and ``smeb ags-worker``.

Production runs the tool under gunicorn, several workers sharing the database (all LTI state
is there or in Redis, never in a worker's memory)::

    SMEB_ENV=production SMEB_SECRET_KEY=... SMEB_KEY_ENCRYPTION_KEY=... \\
    SMEB_DATABASE_URL=postgresql://smeb@db/smeb SMEB_PUBLIC_URL=https://kurs.example.no \\
    gunicorn -w 4 -b 127.0.0.1:8000 'smeb_lti.app:create_app()'

behind a TLS proxy, plus one ``smeb worker`` (xAPI statements to LRSs) and one ``smeb ags-worker``
(grades to the LMSs). ``smeb serve`` is Flask's development server, for one person.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from cryptography.fernet import Fernet
from werkzeug.serving import make_server

from content import discover, load_course, shipped_courses_dir
from smeb_lti.app import create_app
from smeb_lti.courses import catalogue
from smeb_lti.courses.launched import installed_courses
from smeb_lti.db import make_engine, migrate, session_factory, session_scope
from smeb_lti.demo_lms import Tool, add_course_link, create_platform_app, register_tool
from smeb_lti.lrs import auth, store
from smeb_lti.lti import keys, registrations
from smeb_lti.lti.ags import AgsSender
from smeb_lti.lti.services import lti_services
from smeb_lti.settings import Settings, get_settings
from xapi.delivery.destinations import Destination, load_destinations, save_destination
from xapi.delivery.worker import Worker

DEMO_CLIENT_ID = "smeb-demo-tool"
DEMO_DEPLOYMENT_ID = "smeb-demo-deployment-1"


@dataclass(frozen=True)
class DemoSetup:
    tool_url: str
    platform_url: str
    platform_db: Path
    client_id: str
    deployment_id: str
    registration_id: int
    courses: tuple[str, ...]


def prepare(tool_url: str, platform_url: str, platform_db: Path, course_paths: tuple[str, ...] = (), shipped: bool = True) -> DemoSetup:
    """Migrate, install courses, make the tool key, and register tool and platform with each other (idempotent)."""


    settings = Settings.from_env()
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    folders = [Path(p) for p in course_paths] + ([shipped_courses_dir()] if shipped else [])
    courses = [load_course(folder) for folder in discover(folders)]
    try:
        with session_scope(session_factory(engine)) as session:
            for course in courses:
                catalogue.install(session, course)
            keys.ensure_key(session, Fernet(settings.with_development_secrets().fernet_key().encode("ascii")))
            row = registrations.add(
                session,
                registrations.RegistrationInput(
                    issuer=platform_url,
                    client_id=DEMO_CLIENT_ID,
                    auth_login_url=platform_url + "/auth",
                    auth_token_url=platform_url + "/token",
                    key_set_url=platform_url + "/.well-known/jwks.json",
                    deployment_ids=(DEMO_DEPLOYMENT_ID,),
                    name="SMEB demo-LMS",
                ),
            )
            registration_id = row.id
            installed = [(i.course.slug, i.course.title.nb, i.course.max_points) for i in installed_courses(session)]
            _embedded_lrs(session, tool_url)
    finally:
        engine.dispose()
    tool = Tool(
        client_id=DEMO_CLIENT_ID,
        deployment_id=DEMO_DEPLOYMENT_ID,
        name="SMEB kurs",
        login_url=tool_url + "/lti/login",
        launch_url=tool_url + "/lti/launch",
        jwks_url=tool_url + "/.well-known/jwks.json",
        redirect_uris=(tool_url + "/lti/launch",),
        deep_link_url=tool_url + "/lti/launch",
    )
    register_tool(platform_db, tool)
    wanted = {c.slug for c in courses}
    for slug, title, points in installed:
        if slug in wanted:
            # Without quizzes the grade is completion: 1 of 1 (see smeb_lti.lti.ags.grade_for).
            add_course_link(platform_db, tool, "rl-" + slug, title, {"course": slug}, points or 1)
    return DemoSetup(tool_url, platform_url, platform_db, DEMO_CLIENT_ID, DEMO_DEPLOYMENT_ID, registration_id, tuple(sorted(wanted)))


DEMO_LRS = "demo-lrs"


def _embedded_lrs(session: Any, tool_url: str) -> None:
    """Statements go to the tool's own LRS (tenant ``demo``), so the demo shows the whole xAPI pipeline."""
    endpoint = f"{tool_url}/lrs/demo/xapi/"
    known = load_destinations(session.connection()).get(DEMO_LRS)
    if known is not None and known.endpoint == endpoint:
        return
    tenant = store.tenant_by_slug(session, "demo") or store.add_tenant(session, "demo", "SMEB demo")
    issued = auth.add_credential(session, tenant, ["statements/write", "statements/read"], "smeb demo")
    save_destination(session.connection(), Destination(name=DEMO_LRS, endpoint=endpoint, username=issued.key, password=issued.secret))


class Background:
    """Servers and the delivery loop on threads; :meth:`stop` ends them all."""
    def __init__(self) -> None:
        self.stop_event = threading.Event()
        self._servers: list[Any] = []
        self._threads: list[threading.Thread] = []

    def serve(self, app: Any, host: str, port: int) -> None:
        server = make_server(host, port, app, threaded=True)
        self._servers.append(server)
        self._start(server.serve_forever, f"http-{port}")

    def _start(self, target: Callable[[], Any], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def deliver(self, tool_app: Any, idle: float = 1.0) -> None:
        """The outbox worker in-process: grades to the platform (AGS) and statements to configured LRSs."""

        engine = tool_app.extensions["smeb.engine"]
        upstreams = get_settings(tool_app).lrs_upstreams
        sender = AgsSender(engine, lti_services(tool_app), stop=self.stop_event)

        def loop() -> None:
            log = logging.getLogger("smeb.demo")
            while not self.stop_event.is_set():
                busy = False
                try:
                    # Destinations are read every pass: the demo adds its LRS while this loop runs.
                    with engine.connect() as conn:
                        lrs = {n: d for n, d in load_destinations(conn, upstreams).items() if d.kind == "lrs"}
                    with Worker(engine, lrs or None, stop=self.stop_event, senders=[sender]) as worker:
                        busy = worker.run_once().requests > 0
                except Exception:
                    log.exception("delivery pass failed")
                if not busy:
                    self.stop_event.wait(idle)

        self._start(loop, "delivery")

    def stop(self) -> None:
        self.stop_event.set()
        for server in self._servers:
            server.shutdown()
        for thread in self._threads:
            thread.join(timeout=15)


def _course_parents(course_paths: tuple[str, ...]) -> list[Path]:
    return sorted({folder.resolve().parent for folder in discover([Path(p) for p in course_paths])}) if course_paths else []


def _wait_for_signal(background: Background) -> None:
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    while not done.wait(0.5):
        pass
    background.stop()


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address both servers listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="The tool's port.")
@click.option("--platform-port", default=5001, show_default=True, type=click.IntRange(1, 65535), help="The demo LMS's port.")
@click.option("--course", "course_paths", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Also install these course folders (or folders of courses).")
@click.option("--no-shipped", is_flag=True, help="Do not install the shipped courses (only --course ones).")
@click.option("--tool-url", default=None, help="Use a tool that already runs there (e.g. under gunicorn) instead of starting one.")
def demo_cmd(host: str, port: int, platform_port: int, course_paths: tuple[str, ...], no_shipped: bool, tool_url: str | None) -> None:
    """Start the tool and a demo LMS on this machine, registered with each other, and print the URL to open.

    Everything stays in SMEB_DATA_DIR (default ./var): the tool's SQLite database, its keys, and the demo
    LMS's own database (demo-platform.db). Grades and xAPI statements are delivered in-process.
    """

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("werkzeug",):
        logging.getLogger(name).setLevel(logging.WARNING)
    settings = Settings.from_env()
    own_tool = tool_url is None
    tool_base = (tool_url or f"http://{host}:{port}").rstrip("/")
    platform_url = f"http://{host}:{platform_port}"
    platform_db = settings.data_dir / "demo-platform.db"
    try:
        setup = prepare(tool_base, platform_url, platform_db, course_paths, shipped=not no_shipped)
    except Exception as error:
        raise click.ClickException(f"demo set-up failed: {error}") from error
    # The player host finds media in <folder>/<slug>/media: tell it where --course folders live.
    folders = [str(folder) for folder in _course_parents(course_paths)]
    tool_app = create_app({"SMEB_COURSE_DIRS": folders} if folders else None)
    background = Background()
    try:
        if own_tool:
            background.serve(tool_app, host, port)
        background.serve(create_platform_app({"PLATFORM_URL": platform_url, "PLATFORM_DB": str(platform_db)}), host, platform_port)
    except OSError as error:
        background.stop()
        raise click.ClickException(f"cannot listen on {host} (ports {port}, {platform_port}): {error}; choose others with --port/--platform-port") from error
    background.deliver(tool_app)
    click.echo(f"SMEB tool:      {tool_base}   (registration {setup.registration_id}, client id {setup.client_id})")
    click.echo(f"Demo LMS:       {platform_url}/   <- open this: {len(setup.courses)} course(s), learner and instructor buttons")
    click.echo(f"Gradebook:      {platform_url}/gradebook")
    click.echo("Stop with Ctrl-C.", nl=True)
    sys.stdout.flush()
    _wait_for_signal(background)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
def serve_cmd(host: str, port: int) -> None:
    """Run the tool alone on Flask's development server (production: gunicorn, see below).

    \b
    Production:
      gunicorn -w 4 -b 127.0.0.1:8000 'smeb_lti.app:create_app()'
    with SMEB_ENV=production, SMEB_SECRET_KEY, SMEB_KEY_ENCRYPTION_KEY, SMEB_DATABASE_URL and SMEB_PUBLIC_URL set,
    behind an HTTPS proxy, plus `smeb worker` and `smeb ags-worker`.
    """

    migrate(Settings.from_env().database_url)
    app = create_app()
    click.echo(f"SMEB tool on http://{host}:{port}/ (development server: use gunicorn in production)")
    app.run(host=host, port=port, threaded=True, use_reloader=False)


@click.command("ags-worker")
@click.option("--once", is_flag=True, help="Post what is due now, then exit (exit status 2 if something failed).")
@click.option("--idle", default=1.0, show_default=True, help="Sleep between passes when nothing was due.")
def ags_worker_cmd(once: bool, idle: float) -> None:
    """Post queued grades to the LMSs (LTI Assignment and Grade Services) until SIGTERM."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    migrate(Settings.from_env().database_url)
    app = create_app()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    sender = AgsSender(app.extensions["smeb.engine"], lti_services(app), stop=stop)
    stats = sender.run_once() if once else sender.run_forever(idle)
    click.echo(f"delivered {stats.delivered}, parked {stats.parked}, rescheduled {stats.rescheduled}, requests {stats.requests}")
    for error in dict.fromkeys(stats.errors):
        click.echo(f"error: {error}", err=True)
    if once and stats.errors:
        sys.exit(2)


def register(main: click.Group) -> None:
    main.add_command(demo_cmd)
    main.add_command(serve_cmd)
    main.add_command(ags_worker_cmd)
