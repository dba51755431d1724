"""Report speed: the completion report over synthetic statements (50 courses, 20,000 learners).

Run from the repo root: ``python benchmarks/bench_reports.py [--statements 1000000] [--ralph-statements 20000] [--quick] [--json PATH]``.

Measures, and prints as JSON:

* the completion report from the embedded LRS's tables (``smeb_lti.reports.sources.store_statements``,
  streaming ``full_json`` with ``yield_per``) on SQLite and on PostgreSQL, over ``--statements``
  statements bulk-inserted straight into ``lrs_statements`` (COPY on PostgreSQL);
* the aggregation alone on the same statements already in memory (the floor: no database);
* the same report through the xAPI query API (``xapi.delivery.query``, following ``more``) against the real
  Ralph LRS (tests/support/ralph.py). Ralph 5.1's file-system backend re-reads its whole file for every page,
  so Ralph gets ``--ralph-statements`` (default 20,000, posted over HTTP) and the comparison is per
  statement; the ratio says how much slower the HTTP path is per statement than the local store;
* PDF rendering time per certificate (WeasyPrint, median of ``--pdfs``).

PostgreSQL: the machine's server on 127.0.0.1:5432 or a throw-away cluster (tests/support/pg.py).
Not a test: numbers depend on the machine and its load (2 cores, shared).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.figures import Figures, add_common_arguments

COURSES = 50
LEARNERS = 20_000
SEED = 20261121
VERBS = {
    "launched": "http://adlnet.gov/expapi/verbs/launched",
    "progressed": "http://adlnet.gov/expapi/verbs/progressed",
    "completed": "http://adlnet.gov/expapi/verbs/completed",
    "passed": "http://adlnet.gov/expapi/verbs/passed",
    "failed": "http://adlnet.gov/expapi/verbs/failed",
}
COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"


def synthetic(i: int, rng: random.Random) -> dict:
    """Statement ``i``: mostly lesson progress grouped under a course; some course launches and outcomes."""
    learner = rng.randrange(LEARNERS)
    course = f"https://smeb.no/courses/c{rng.randrange(COURSES):02d}"
    roll = rng.random()
    actor = {"objectType": "Agent", "name": f"Deltaker {learner}", "account": {"homePage": "https://lms.example.org", "name": f"u{learner}"}}
    stamp = f"2026-{1 + i % 11:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00.000Z"
    course_obj = {"objectType": "Activity", "id": course, "definition": {"type": COURSE_TYPE, "name": {"nb": f"Kurs {course[-2:]}"}}}
    if roll < 0.70:
        verb, obj = "progressed", {"objectType": "Activity", "id": f"{course}/lessons/{i % 8}"}
        context = {"contextActivities": {"grouping": [course_obj]}}
        result = {"extensions": {"https://w3id.org/xapi/cmi5/result/extensions/progress": i % 100}}
    else:
        verb = "launched" if roll < 0.90 else "completed" if roll < 0.97 else "passed" if roll < 0.99 else "failed"
        obj, context = course_obj, {}
        result = {"score": {"scaled": round(rng.random(), 2)}} if verb in ("passed", "failed") else {}
    statement = {"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "actor": actor,
                 "verb": {"id": VERBS[verb], "display": {"en": verb}}, "object": obj, "timestamp": stamp}
    if context:
        statement["context"] = context
    if result:
        statement["result"] = result
    return statement


def bulk_fill(db_url: str, size: int) -> float:
    """Insert ``size`` statements for LRS tenant "bench" (id taken from the table); seconds taken."""
    from sqlalchemy.orm import sessionmaker

    from smeb_lti.db import make_engine, migrate, session_scope
    from smeb_lti.lrs import clock, store
    from smeb_lti.lrs import statements as st

    migrate(db_url)
    engine = make_engine(db_url)
    with session_scope(sessionmaker(engine)) as session:
        tenant_id = (store.tenant_by_slug(session, "bench") or store.add_tenant(session, "bench")).id
    engine.dispose()
    rng = random.Random(SEED)
    start = time.perf_counter()
    base_us = clock.now_us() - size * 1000
    chunk = 20_000

    def row(i: int) -> tuple:
        s = synthetic(i, rng)
        s["stored"] = st.format_timestamp(base_us + i * 1000)
        return (i + 1, tenant_id, s["id"], base_us + i * 1000, s["verb"]["id"], s["object"]["id"], st.agent_ifi(s["actor"]), None, None,
                False, False, False, json.dumps(s, separators=(",", ":"), ensure_ascii=False))

    columns = "seq, tenant_id, statement_id, stored_us, verb_id, activity_id, actor_ifi, registration, ref_id, voiding, voided, has_attachments, full_json"
    if db_url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(db_url.split("///", 1)[1])
        conn.execute("PRAGMA synchronous=OFF")
        for offset in range(0, size, chunk):
            conn.executemany(f"INSERT INTO lrs_statements ({columns}) VALUES ({','.join('?' * 13)})",
                             [row(i) for i in range(offset, min(size, offset + chunk))])
            conn.commit()
        conn.close()
    else:
        import psycopg

        with psycopg.connect(db_url) as conn:
            for offset in range(0, size, chunk):
                with conn.cursor() as cur, cur.copy(f"COPY lrs_statements ({columns}) FROM STDIN") as copy:
                    for i in range(offset, min(size, offset + chunk)):
                        copy.write_row(row(i))
                conn.commit()
            conn.execute("SELECT setval(pg_get_serial_sequence('lrs_statements', 'seq'), (SELECT max(seq) FROM lrs_statements))")
            conn.commit()
    return time.perf_counter() - start


def store_report(db_url: str) -> tuple[float, int]:
    from sqlalchemy.orm import sessionmaker

    from smeb_lti.db import make_engine
    from smeb_lti.reports.aggregate import completion_report
    from smeb_lti.reports.sources import store_statements

    engine = make_engine(db_url)
    try:
        with sessionmaker(engine)() as session:
            start = time.perf_counter()
            rows = completion_report(store_statements(session, "bench"))
            return time.perf_counter() - start, len(rows)
    finally:
        engine.dispose()


def pure_report(size: int) -> float:
    """Seconds to aggregate ``size`` statements already parsed in memory (the floor: no database, no JSON)."""
    import gc

    from smeb_lti.reports.aggregate import completion_report

    rng = random.Random(SEED)
    statements = [synthetic(i, rng) for i in range(size)]
    gc.collect()
    gc.freeze()  # the statements are long-lived: keep the collector from rescanning them while timing
    try:
        start = time.perf_counter()
        completion_report(statements)
        return time.perf_counter() - start
    finally:
        gc.unfreeze()


def ralph_report(size: int) -> dict:
    import httpx

    from smeb_lti.reports.aggregate import completion_report
    from smeb_lti.reports.sources import lrs_statements
    from tests.support.ralph import RalphServer

    with tempfile.TemporaryDirectory() as folder:
        server = RalphServer(Path(folder)).start()
        try:
            rng = random.Random(SEED)
            start = time.perf_counter()
            with httpx.Client(auth=(server.username, server.password), timeout=300, headers={"X-Experience-API-Version": "1.0.3"}) as client:
                for offset in range(0, size, 500):
                    body = [synthetic(i, rng) for i in range(offset, min(size, offset + 500))]
                    answer = client.post(server.endpoint + "statements", json=body)
                    answer.raise_for_status()
            load = time.perf_counter() - start
            start = time.perf_counter()
            statements = lrs_statements(server.endpoint, server.username, server.password, page_size=1000, server_filters=False, timeout=300)
            rows = completion_report(statements)
            elapsed = time.perf_counter() - start
        finally:
            server.stop()
    return {"statements": size, "post_seconds": round(load, 1), "report_seconds": round(elapsed, 2), "rows": len(rows),
            "us_per_statement": round(elapsed / size * 1e6, 1)}


def pdf_seconds(count: int) -> float:
    import datetime as dt

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from smeb_lti.certificates import claims as signed
    from smeb_lti.certificates.claims import CertificateClaims
    from smeb_lti.certificates.issue import new_certificate_id
    from smeb_lti.certificates.openbadges import build_credential, sign_credential
    from smeb_lti.certificates.pdf import render_pdf
    from smeb_lti.certificates.signing import SigningKey, key_id

    private = Ed25519PrivateKey.generate()
    key = SigningKey(key_id(private.public_key()), private, dt.datetime.now(dt.UTC))
    timings = []
    for n in range(count):
        claims = CertificateClaims(new_certificate_id(), "https://smeb.no/courses/c01", "Fra stille feil til smart kvalitet",
                                   f"Đorđe Šćepanović {n}", dt.date(2026, 11, 21), "SMEB AS", "BHT Vest AS", ("Psykologisk trygghet",), 90, key.kid)
        token = signed.sign(claims, key)
        url = signed.verification_url("https://kurs.smeb.no", token, claims.certificate_id)
        jwt_ = sign_credential(build_credential(claims, base_url="https://kurs.smeb.no", valid_from=dt.datetime.now(dt.UTC)), key)
        start = time.perf_counter()
        render_pdf(claims, token, url, jwt_)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings[1:] or timings)  # the first render loads fonts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--statements", type=int, default=1_000_000, help="statements in the local store (each database)")
    parser.add_argument("--ralph-statements", type=int, default=20_000, help="statements posted to Ralph")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pdfs", type=int, default=10)
    parser.add_argument("--skip-ralph", action="store_true")
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.statements, args.ralph_statements, args.pdfs = 2000, 500, 2
    figures = Figures("reports")
    result: dict = {"statements": args.statements, "courses": COURSES, "learners": LEARNERS}
    floor_size = min(args.statements, 200_000)
    floor = pure_report(floor_size) * args.statements / floor_size
    result["in_memory_aggregate_seconds"] = round(floor, 2)
    figures.add("in_memory.report", floor / args.statements * 1e6, "µs/statement", better="lower")
    per_db: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        urls = {}
        if args.db in ("sqlite", "both"):
            urls["sqlite"] = f"sqlite:///{folder}/bench.db"
        server = None
        if args.db in ("postgresql", "both"):
            from tests.support import pg

            server = pg.start()
            urls["postgresql"] = server.create_database()
        try:
            for name, url in urls.items():
                fill = bulk_fill(url, args.statements)
                seconds, rows = store_report(url)
                per_db[name] = seconds
                result[name] = {"fill_seconds": round(fill, 1), "report_seconds": round(seconds, 2), "rows": rows,
                                "us_per_statement": round(seconds / args.statements * 1e6, 1)}
                figures.add(f"{name}.report", seconds / args.statements * 1e6, "µs/statement", better="lower", baseline="in_memory.report")
        finally:
            if server is not None:
                server.drop_database(urls["postgresql"])
                server.stop()
    if "sqlite" in per_db and "postgresql" in per_db:
        result["ratio_postgresql_to_sqlite"] = round(per_db["postgresql"] / per_db["sqlite"], 2)
    for name, seconds in per_db.items():
        result[f"ratio_{name}_to_in_memory"] = round(seconds / floor, 2)
    if not args.skip_ralph:
        ralph = ralph_report(args.ralph_statements)
        result["ralph"] = ralph
        figures.add("ralph.report", ralph["us_per_statement"], "µs/statement", better="lower")
        for name in per_db:
            figures.ratio("ralph.report", f"{name}.report")
        for name, seconds in per_db.items():
            result[f"ratio_ralph_to_{name}_per_statement"] = round(ralph["us_per_statement"] / (seconds / args.statements * 1e6), 1)
    pdf = pdf_seconds(args.pdfs)
    result["pdf_seconds_per_certificate"] = round(pdf, 3)
    figures.add("pdf_per_certificate", pdf * 1000, "ms", better="lower")
    result["load_average_1min_at_end"] = round(__import__("os").getloadavg()[0], 1)  # 2 cores shared: read numbers with this
    print(json.dumps(result, indent=2))
    figures.emit(args.json)


if __name__ == "__main__":
    main()
