"""Benchmark of the embedded LRS over real HTTP on 127.0.0.1, on SQLite and PostgreSQL.

Measures:
  1. statements/s stored through POST /statements in batches of 1 and of 100, next to the real
     Ralph LRS (5.1.0, fs backend, tests/support/ralph.py) measured in the same run (ratio = ours / Ralph);
  2. GET /statements latency (p50/p99) for common filters at a large store, filled by bulk
     inserts straight into the tables (same rows the API writes: statement + index links), next to
     GET /about on the same server (the HTTP floor: no database).

Usage:  python benchmarks/bench_lrs.py [--size 1000000] [--db sqlite|postgresql|both] [--requests 200] [--quick] [--json PATH]

The server runs in a subprocess (werkzeug threaded server) so the client does not share its GIL.
PostgreSQL: the machine's server on 127.0.0.1:5432 or a throw-away cluster (tests/support/pg.py).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.figures import Figures, add_common_arguments

VERBS = [f"http://adlnet.gov/expapi/verbs/v{i}" for i in range(10)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(db_url: str, port: int) -> None:
    """Subprocess entry: the tool's app on 127.0.0.1:port."""
    import logging

    from werkzeug.serving import make_server

    from smeb_lti.app import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log per request

    app = create_app({"SMEB_DATABASE_URL": db_url, "SMEB_LRS_PAGE_MAX": 100})
    make_server("127.0.0.1", port, app, threaded=True).serve_forever()


def setup(db_url: str) -> tuple[str, str]:
    from sqlalchemy.orm import sessionmaker

    from smeb_lti.db import make_engine, migrate, session_scope
    from smeb_lti.lrs import auth, store

    migrate(db_url)
    engine = make_engine(db_url)
    with session_scope(sessionmaker(engine)) as session:
        tenant = store.tenant_by_slug(session, "bench") or store.add_tenant(session, "bench")
        issued = auth.add_credential(session, tenant, ["all"])
    engine.dispose()
    return issued.key, issued.secret


def statement(i: int) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "account": {"homePage": "https://smeb.no", "name": f"learner-{i % 10000}"}},
        "verb": {"id": VERBS[i % 10], "display": {"en-US": f"v{i % 10}"}},
        "object": {"objectType": "Activity", "id": f"https://smeb.no/xapi/activity/{i % 1000}"},
        "context": {"registration": str(uuid.UUID(int=i % 100000)),
                    "contextActivities": {"parent": [{"id": f"https://smeb.no/xapi/course/{i % 10}"}]}},
        "timestamp": "2026-11-21T12:00:00.000Z",
    }


def bulk_fill(db_url: str, size: int) -> float:
    """Insert ``size`` statements with their index links directly; returns seconds taken."""
    from smeb_lti.lrs import clock
    from smeb_lti.lrs import statements as st

    start = time.perf_counter()
    tenant_id = 1
    base_us = clock.now_us() - size * 1000
    chunk = 20000
    if db_url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(db_url.split("///", 1)[1])
        conn.execute("PRAGMA synchronous=OFF")
        first = conn.execute("SELECT coalesce(max(seq), 0) FROM lrs_statements").fetchone()[0] + 1
        for offset in range(0, size, chunk):
            rows, links = [], []
            for i in range(offset, min(size, offset + chunk)):
                s = statement(i)
                seq = first + i
                s["stored"] = st.format_timestamp(base_us + i * 1000)
                rows.append((seq, tenant_id, s["id"], base_us + i * 1000, s["verb"]["id"], s["object"]["id"], st.agent_ifi(s["actor"]),
                             s["context"]["registration"], None, 0, 0, 0, json.dumps(s, separators=(",", ":"))))
                links += [(seq, tenant_id, kind, value, 1 if direct else 0) for kind, value, direct in st.links(s)]
            conn.executemany("INSERT INTO lrs_statements (seq, tenant_id, statement_id, stored_us, verb_id, activity_id, actor_ifi, registration, ref_id, voiding, voided, has_attachments, full_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            conn.executemany("INSERT INTO lrs_statement_links (seq, tenant_id, kind, value, direct) VALUES (?,?,?,?,?)", links)
            conn.commit()
        # GET answers up to the tenant's clock (X-Experience-API-Consistent-Through): rows put in directly advance it too.
        conn.execute("INSERT INTO lrs_clock (tenant_id, stored_us) VALUES (?, ?) ON CONFLICT (tenant_id) DO UPDATE SET stored_us = max(stored_us, excluded.stored_us)",
                     (tenant_id, base_us + (size - 1) * 1000))
        conn.commit()
        conn.execute("ANALYZE")
        conn.close()
    else:
        import psycopg

        with psycopg.connect(db_url) as conn:
            first = conn.execute("SELECT coalesce(max(seq), 0) FROM lrs_statements").fetchone()[0] + 1
            for offset in range(0, size, chunk):
                with conn.cursor() as cur:
                    with cur.copy("COPY lrs_statements (seq, tenant_id, statement_id, stored_us, verb_id, activity_id, actor_ifi, registration, ref_id, voiding, voided, has_attachments, full_json) FROM STDIN") as copy:
                        link_rows = []
                        for i in range(offset, min(size, offset + chunk)):
                            s = statement(i)
                            seq = first + i
                            s["stored"] = st.format_timestamp(base_us + i * 1000)
                            copy.write_row((seq, tenant_id, s["id"], base_us + i * 1000, s["verb"]["id"], s["object"]["id"], st.agent_ifi(s["actor"]),
                                            s["context"]["registration"], None, False, False, False, json.dumps(s, separators=(",", ":"))))
                            link_rows += [(seq, tenant_id, kind, value, direct) for kind, value, direct in st.links(s)]
                    with cur.copy("COPY lrs_statement_links (seq, tenant_id, kind, value, direct) FROM STDIN") as copy:
                        for row in link_rows:
                            copy.write_row(row)
                conn.commit()
            conn.execute("SELECT setval(pg_get_serial_sequence('lrs_statements', 'seq'), (SELECT max(seq) FROM lrs_statements))")
            # GET answers up to the tenant's clock (X-Experience-API-Consistent-Through): rows put in directly advance it too.
            conn.execute("INSERT INTO lrs_clock (tenant_id, stored_us) VALUES (%s, %s) ON CONFLICT (tenant_id) DO UPDATE SET stored_us = greatest(lrs_clock.stored_us, excluded.stored_us)",
                         (tenant_id, base_us + (size - 1) * 1000))
            conn.commit()
            conn.autocommit = True
            conn.execute("ANALYZE lrs_statements")
            conn.execute("ANALYZE lrs_statement_links")
    return time.perf_counter() - start


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def post_rates(client, statements_url: str, requests: int, batches: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Statements/s stored by POSTing ``requests`` single statements, then ``batches`` batches of 100 (fresh ids)."""
    rates = {}
    for batch, count in ((1, requests), (100, batches)):
        start = time.perf_counter()
        for r in range(count):
            body = [statement(r * batch + j) for j in range(batch)]
            response = client.post(statements_url, json=body)
            assert response.status_code == 200, response.text
            assert len(response.json()) == batch, response.text  # one id back per statement stored
        elapsed = time.perf_counter() - start
        rates[f"post_batch_{batch}_statements_per_s"] = round(batch * count / elapsed, 1)
    return rates


def run_ralph(requests: int, batches: int) -> dict:
    """The same POSTs against the real Ralph LRS (tests/support/ralph.py: 5.1.0, fs backend), fresh and empty."""
    import httpx

    from tests.support.ralph import RalphServer

    with tempfile.TemporaryDirectory(prefix="bench-lrs-ralph-") as tmp:
        lrs = RalphServer(Path(tmp)).start()
        try:
            with httpx.Client(timeout=120, auth=(lrs.username, lrs.password), headers={"X-Experience-API-Version": "1.0.3"}) as client:
                result: dict = {"db": "ralph-5.1.0-fs", **post_rates(client, lrs.endpoint + "statements", requests, batches)}
            stored = len(lrs.stored_id_counts())
            assert stored == requests + 100 * batches, f"Ralph stored {stored} statements"
            return result
        finally:
            lrs.stop()


def start_server(client, db_url: str) -> tuple[subprocess.Popen[bytes], str]:  # type: ignore[no-untyped-def]
    """The tool in a subprocess on a free port, once it answers GET /about; (process, xAPI endpoint)."""
    import httpx

    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", db_url, str(port)], cwd=REPO)
    endpoint = f"http://127.0.0.1:{port}/lrs/bench/xapi/"
    for _ in range(600):
        try:
            client.get(endpoint + "about")
            return server, endpoint
        except httpx.TransportError:
            if server.poll() is not None:
                raise SystemExit(f"the LRS server exited with {server.returncode}") from None
            time.sleep(0.1)
    stop_server(server)
    raise SystemExit(f"the LRS server did not answer on {endpoint} within a minute")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait(timeout=30)


def run(db_name: str, db_url: str, size: int, requests: int, batches: int, get_repeat: int) -> dict:
    import httpx

    key, secret = setup(db_url)
    headers = {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode(), "X-Experience-API-Version": "1.0.3"}
    client = httpx.Client(timeout=120, headers=headers)
    server, endpoint = start_server(client, db_url)
    try:
        result: dict = {"db": db_name, **post_rates(client, endpoint + "statements", requests, batches)}
        result["bulk_fill_seconds"] = round(bulk_fill(db_url, size), 1)
        result["store_size"] = size
        queries = {
            "about": None,  # the floor: same server, same HTTP client, no database
            "no_filter": {},
            "verb": {"verb": VERBS[3]},
            "activity": {"activity": "https://smeb.no/xapi/activity/42"},
            "agent": {"agent": json.dumps({"account": {"homePage": "https://smeb.no", "name": "learner-77"}})},
            "registration": {"registration": str(uuid.UUID(int=4242))},
            "related_activities": {"activity": "https://smeb.no/xapi/course/3", "related_activities": "true"},
            "verb_since": {"verb": VERBS[5], "since": "2026-01-01T00:00:00Z"},
        }
        for name, params in queries.items():
            timings = []
            for _ in range(get_repeat):
                start = time.perf_counter()
                if params is None:
                    response = client.get(endpoint + "about")
                else:
                    response = client.get(endpoint + "statements", params={**params, "limit": 25})
                timings.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.text
            result[f"get_{name}_ms"] = {"p50": round(percentile(timings, 50), 1), "p99": round(percentile(timings, 99), 1)}
        return result
    finally:
        client.close()
        stop_server(server)


def record(figures: Figures, result: dict) -> None:
    """Figures of one store; POST rates relative to Ralph's, GET latencies relative to GET /about."""
    db = result["db"]
    for batch in (1, 100):
        figures.add(f"{db}.post_batch_{batch}", result[f"post_batch_{batch}_statements_per_s"], "statements/s",
                    baseline=f"ralph.post_batch_{batch}" if "ralph.post_batch_1" in figures.figures else None)
    for name in ("about", "no_filter", "verb", "activity", "agent", "registration", "related_activities", "verb_since"):
        for p in ("p50", "p99"):
            baseline = None if name == "about" or p == "p99" else f"{db}.get_about_{p}"  # p99 on a shared machine is mostly noise
            figures.add(f"{db}.get_{name}_{p}", max(result[f"get_{name}_ms"][p], 0.1), "ms", better="lower", baseline=baseline)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000, help="statements in the large store (bulk-inserted)")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--requests", type=int, default=200, help="POSTs of one statement")
    parser.add_argument("--batches", type=int, help="POSTs of 100 statements (default: a tenth of --requests, at least 10)")
    parser.add_argument("--get-repeat", type=int, help="GETs per query (default: a quarter of --requests, at least 20)")
    parser.add_argument("--skip-ralph", action="store_true", help="only our LRS (no ratios to Ralph)")
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.size, args.requests, args.batches, args.get_repeat = 2000, 10, 2, 5
    batches = args.batches or max(10, args.requests // 10)
    get_repeat = args.get_repeat or max(20, args.requests // 4)
    figures = Figures("lrs")
    results = []
    if not args.skip_ralph:
        results.append(run_ralph(args.requests, batches))
        print(json.dumps(results[-1]), flush=True)
        for batch in (1, 100):
            figures.add(f"ralph.post_batch_{batch}", results[-1][f"post_batch_{batch}_statements_per_s"], "statements/s")
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            results.append(run("sqlite", f"sqlite:///{tmp}/bench.db", args.size, args.requests, batches, get_repeat))
            print(json.dumps(results[-1]), flush=True)
            record(figures, results[-1])
    if args.db in ("postgresql", "both"):
        from tests.support import pg

        server = pg.start()
        url = server.create_database()
        try:
            results.append(run("postgresql", url, args.size, args.requests, batches, get_repeat))
            print(json.dumps(results[-1]), flush=True)
            record(figures, results[-1])
        finally:
            server.drop_database(url)
            server.stop()
    figures.emit(args.json)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
