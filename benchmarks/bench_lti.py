"""LTI launch throughput under gunicorn, and what one id_token validation costs next to its floor.

Run: ``python -m benchmarks.bench_lti [--count 300 --seconds 60] [--quick] [--json PATH]`` (or
``python benchmarks/bench_lti.py``) from the repo root.

Starts, on 127.0.0.1 in a temporary SMEB_DATA_DIR: the demo LMS (``smeb demo --tool-url``, which
also registers both sides) and the tool under ``gunicorn -w N 'smeb_lti.app:create_app()'``. A load
generator (threads, one HTTP client each) then runs complete launches, bounded by ``--count`` and
``--seconds``:

    LMS start button (not timed) → POST /lti/login (tool) → GET /auth (LMS signs the id_token)
    → POST /lti/launch (tool validates it) → GET /play/<launch id> (first player page)

and prints launches per second, p50/p99 of the timed part, and p50/p99 of the tool's share (its
three requests, without the LMS's /auth hop). Everything shares this machine's cores: the LMS and
the load generator take CPU from the tool, so these are lower bounds for the tool alone.

Then, in-process on the same database: the cost of one id_token validation by the tool's LTI layer
(registration lookup, JWKS from cache, RS256 signature, claims, single-use nonce in the database)
next to the floor, one bare RS256 signature verification with ``cryptography``, and PyJWT's decode.
Not a test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from benchmarks.figures import Figures, add_common_arguments

REPO = Path(__file__).resolve().parents[1]
COURSE = REPO / "tests" / "fixtures" / "courses" / "valid" / "all-blocks"
LINK = "rl-all-blocks"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[bytes], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"a server exited with {process.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=5).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {timeout} s")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _form_fields(html: str) -> tuple[str, dict[str, str]]:
    from smeb_lti.demo_lms.client import forms_of

    form = forms_of(html)[0]
    return form.action, form.fields


def one_launch(client: httpx.Client, platform_url: str, user: str) -> tuple[float, float, tuple[float, float, float]]:
    """One complete launch; returns (timed seconds, the tool's share, (login, id_token POST, player page) seconds)."""
    action, fields = _form_fields(client.post(f"{platform_url}/launch/{LINK}", data={"user": user}).text)
    start = time.perf_counter()
    login = client.post(action, data=fields)
    t_login = time.perf_counter() - start
    if login.status_code != 302:
        raise RuntimeError(f"login answered {login.status_code}: {login.text[:300]}")
    auth = client.get(login.headers["location"])
    action, fields = _form_fields(auth.text)
    t = time.perf_counter()
    launched = client.post(action, data=fields)
    t_launch = time.perf_counter() - t
    if launched.status_code != 303:
        raise RuntimeError(f"launch answered {launched.status_code}: {launched.text[:300]}")
    t = time.perf_counter()
    page = client.get(launched.headers["location"])
    t_page = time.perf_counter() - t
    if page.status_code != 200 or '<div id="app">' not in page.text:
        raise RuntimeError(f"player page answered {page.status_code}")
    return time.perf_counter() - start, t_login + t_launch + t_page, (t_login, t_launch, t_page)


def load(platform_url: str, threads: int, count: int, seconds: float) -> dict[str, Any]:
    totals: list[float] = []
    tools: list[float] = []
    steps: list[tuple[float, float, float]] = []
    errors: list[str] = []
    lock = threading.Lock()
    issued = iter(range(count))
    deadline = time.monotonic() + seconds

    def run(worker: int) -> None:
        with httpx.Client(timeout=60) as client:
            while time.monotonic() < deadline:
                with lock:
                    if next(issued, None) is None:
                        return
                try:
                    total, tool, step = one_launch(client, platform_url, f"demo-learner-0{1 + worker % 9}")
                except Exception as error:
                    with lock:
                        errors.append(str(error)[:200])
                    continue
                with lock:
                    totals.append(total)
                    tools.append(tool)
                    steps.append(step)

    started = time.perf_counter()
    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.perf_counter() - started
    return {"launches": len(totals), "errors": errors, "wall": wall, "totals": totals, "tools": tools, "steps": steps}


def validation_costs(data_dir: Path, repeat: int) -> dict[str, float]:
    """Median seconds: the tool's id_token validation, PyJWT decode, and a bare RS256 verify (the floor)."""
    import jwt
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    from smeb_lti.app import create_app
    from smeb_lti.lti import registrations
    from smeb_lti.lti.services import lti_services
    from smeb_lti.lti.validation import StateRecord, make_request

    os.environ["SMEB_DATA_DIR"] = str(data_dir)
    app = create_app({"SMEB_DATA_DIR": str(data_dir)})
    services = lti_services(app)
    conn = sqlite3.connect(data_dir / "demo-platform.db")
    kid, private_pem = conn.execute("SELECT kid, private_pem FROM platform_keys").fetchone()
    conn.close()
    with services.sessions() as session:
        registration = registrations.all_registrations(session)[0]
        issuer, client_id, reg_id, deployment = registration.issuer, registration.client_id, registration.id, registration.deployment_ids[0]
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = serialization.load_pem_private_key(private_pem.encode(), None)
    assert isinstance(private, rsa.RSAPrivateKey)
    public = private.public_key()

    def token(nonce: str) -> str:
        now = int(time.time())
        lti = "https://purl.imsglobal.org/spec/lti/claim/"
        return jwt.encode({
            "iss": issuer, "aud": client_id, "sub": "demo-ola", "iat": now, "exp": now + 300, "nonce": nonce,
            lti + "message_type": "LtiResourceLinkRequest", lti + "version": "1.3.0", lti + "deployment_id": deployment,
            lti + "target_link_uri": "http://tool/lti/launch", lti + "resource_link": {"id": LINK}, lti + "roles": [],
            lti + "custom": {"course": "all-blocks"},
        }, private, algorithm="RS256", headers={"kid": kid})

    tool_times, pyjwt_times, floor_times = [], [], []
    with app.test_request_context():
        for i in range(repeat + 1):
            nonce = secrets.token_urlsafe(32)
            services.session_service().save_nonce(nonce)
            record = StateRecord(nonce, reg_id, None, None, None, {})
            tok = token(nonce)
            t = time.perf_counter()
            services.message_launch(make_request({"id_token": tok, "state": "bench"})).validate_with_state(record)
            elapsed = time.perf_counter() - t
            if i:  # the first one fetches the platform JWKS into the shared cache
                tool_times.append(elapsed)
            t = time.perf_counter()
            jwt.decode(tok, public, algorithms=["RS256"], audience=client_id, issuer=issuer)
            pyjwt_times.append(time.perf_counter() - t)
            signing_input, _, signature = tok.rpartition(".")
            raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
            t = time.perf_counter()
            public.verify(raw, signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
            floor_times.append(time.perf_counter() - t)
    app.extensions["smeb.engine"].dispose()
    return {"tool": statistics.median(tool_times), "pyjwt": statistics.median(pyjwt_times), "floor": statistics.median(floor_times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (default 4, as documented for production)")
    parser.add_argument("--threads", type=int, default=4, help="concurrent load-generator clients")
    parser.add_argument("--count", type=int, default=300, help="at most this many launches")
    parser.add_argument("--seconds", type=float, default=60.0, help="stop issuing launches after this long")
    parser.add_argument("--repeat", type=int, default=200, help="id_token validations to time")
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.workers, args.threads, args.count, args.seconds, args.repeat = 2, 2, 10, 30.0, 10
    figures = Figures("lti")
    args.load_before = os.getloadavg()[0]  # other work on the machine skews every number below

    with tempfile.TemporaryDirectory(prefix="smeb-bench-lti-") as tmp:
        data_dir = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMEB_")}
        env.update(SMEB_DATA_DIR=str(data_dir), SMEB_ENV="development", PYTHONPATH=str(REPO), SMEB_COURSE_DIRS=str(COURSE.parent))
        port, platform_port = _free_port(), _free_port()
        tool_url, platform_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{platform_port}"
        processes: list[subprocess.Popen[bytes]] = []
        # coreutils' timeout: the servers stop themselves even if this script is killed; SIGTERM to it reaches them.
        lifetime = ["timeout", "--kill-after=30", str(int(args.seconds) + 900)]
        try:
            with open(data_dir / "demo.log", "wb") as log:
                processes.append(subprocess.Popen(
                    [*lifetime, sys.executable, "-m", "smeb_lti", "demo", "--tool-url", tool_url, "--platform-port", str(platform_port),
                     "--no-shipped", "--course", str(COURSE)], env=env, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT))
                _wait(platform_url + "/", processes[0])
                processes.append(subprocess.Popen(
                    [*lifetime, sys.executable, "-m", "gunicorn", "-w", str(args.workers), "-b", f"127.0.0.1:{port}", "--error-logfile",
                     str(data_dir / "gunicorn.log"), "smeb_lti.app:create_app()"], env=env, cwd=data_dir))
                _wait(tool_url + "/.well-known/jwks.json", processes[1])
                load(platform_url, 1, 3, 60)  # warm-up: JWKS caches, connection pools, first imports
                result = load(platform_url, args.threads, args.count, args.seconds)
        finally:
            for process in processes:
                if process.poll() is None:
                    os.kill(process.pid, signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.kill(process.pid, signal.SIGKILL)
        costs = validation_costs(data_dir, args.repeat)

    n = result["launches"]
    load_before = float(args.load_before)
    print(f"machine: {os.cpu_count()} cores, load average before {load_before:.1f}; gunicorn -w {args.workers}; {args.threads} concurrent clients; demo LMS and load generator on the same cores")
    if n:
        def ms(s: float) -> str:
            return f"{s * 1000:.1f} ms"

        print(f"launches: {n} in {result['wall']:.1f} s = {n / result['wall']:.1f} launches/s ({len(result['errors'])} errors)")
        print(f"launch latency (login → id_token POST → player page, incl. LMS /auth): p50 {ms(_percentile(result['totals'], .5))}, "
              f"p99 {ms(_percentile(result['totals'], .99))}")
        print(f"tool's share (its 3 requests): p50 {ms(_percentile(result['tools'], .5))}, p99 {ms(_percentile(result['tools'], .99))}")
        names = ("POST /lti/login", "POST /lti/launch", "GET /play/<id>")
        print("  p50 per request: " + ", ".join(f"{n} {ms(_percentile([s[i] for s in result['steps']], .5))}" for i, n in enumerate(names)))
        figures.add("launches", n / result["wall"], "launches/s")
        for q in (.5, .99):
            figures.add(f"launch_p{round(q * 100)}", _percentile(result["totals"], q) * 1000, "ms", better="lower")
        for q in (.5, .99):
            figures.add(f"tool_share_p{round(q * 100)}", _percentile(result["tools"], q) * 1000, "ms", better="lower",
                        baseline=f"launch_p{round(q * 100)}")
    for error in dict.fromkeys(result["errors"][:5]):
        print(f"error: {error}")
    print(f"id_token validation by the tool (median of {args.repeat}): {costs['tool'] * 1e6:.0f} µs; "
          f"PyJWT decode {costs['pyjwt'] * 1e6:.0f} µs; bare RS256 verify (floor) {costs['floor'] * 1e6:.0f} µs; "
          f"ratio to floor {costs['tool'] / costs['floor']:.1f}x")
    figures.add("rs256_verify", costs["floor"] * 1e6, "µs", better="lower")
    figures.add("pyjwt_decode", costs["pyjwt"] * 1e6, "µs", better="lower", baseline="rs256_verify")
    figures.add("id_token_validation", costs["tool"] * 1e6, "µs", better="lower", baseline="rs256_verify")
    figures.emit(args.json)
    if result["errors"]:
        raise SystemExit(f"{len(result['errors'])} launches failed (first: {result['errors'][0]})")


if __name__ == "__main__":
    main()
