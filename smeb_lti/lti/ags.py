"""LTI Assignment and Grade Services 2.0: scores queued in the outbox, then posted to the platform.

The player host queues a score in the learner event's transaction (:func:`queue_score`): a row
of the xAPI outbox with ``kind = "ags"`` and destination ``ags:<registration id>``; the payload is
``{"lineitem": URL, "score": {...}}``. :class:`AgsSender` delivers them: an access token per
registration (client-credentials grant with a JWT signed by the tool's key, cached in the shared
store by pylti1p3's connector, :class:`smeb_lti.lti.service_connector.ToolServiceConnector`), then
``POST <lineitem>/scores`` with ``application/vnd.ims.lis.v1.score+json``.

What each line item last got for each learner is kept in ``ags_line_item_scores``
(:class:`LineItemScore`), read and written under a row lock in the queueing transaction:

* timestamps are strictly increasing per (line item, user) in WHOLE SECONDS: Moodle compares
  ``strtotime(timestamp)`` with the grade on record and refuses an equal second with 409
  (``mod/lti/service/gradebookservices/classes/local/resources/scores.php``), and two scores of
  one learner are often queued in the same second, by different worker processes;
* a grade that did not change for that line item is not queued again, while a line item that has
  not had the current grade yet (a second activity for a course finished elsewhere) gets it;
* a newer score for the same line item and user settles the older one as ``superseded`` while it
  still waits (not while a worker holds it): only the latest grade matters to the gradebook.

Outcomes of a POST: 2xx → delivered; 401 → token dropped and retried later; 409 (the platform holds
a result at least as new) → ``superseded`` when a newer score of ours is queued, else re-queued once
with a fresh timestamp (rows from before this rule, a clock behind the LMS's), else parked;
408/425/429, 5xx, timeouts, unreachable platform → retried with backoff; any other 4xx → parked
with the platform's status and answer (``smeb outbox parked``): resending the same bytes cannot fix it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import requests
from sqlalchemy import DateTime, Engine, ForeignKey, Integer, String, Table, Text, UniqueConstraint, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from smeb_lti.db import Base
from smeb_lti.lti import claims as c
from smeb_lti.lti import keys, registrations
from smeb_lti.lti.tool_conf import ToolRegistration
from xapi.delivery import outbox
from xapi.delivery.sender import Batch, DeliveryPolicy, PassStats
from xapi.delivery.worker import Worker

log = logging.getLogger("smeb_lti.ags")  # the name operators filter on; unchanged by the move

SCOPE_SCORE = c.SCOPE_SCORE
KIND = "ags"
SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"
RETRYABLE_4XX = (408, 425, 429)  # the platform is busy or slow: the same request may pass later
STEP = timedelta(seconds=1)  # Moodle's grades keep whole seconds (strtotime)
MAX_RESTAMPS = 1


class LineItemScore(Base):
    """What one line item last got for one learner (the migration ``ags_0001`` has the DDL)."""

    __tablename__ = "ags_line_item_scores"
    __table_args__ = (UniqueConstraint("registration_id", "subject", "lineitem_key", name="uq_ags_line_item_scores_registration_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registrations.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    lineitem_key: Mapped[str] = mapped_column(String(64))
    lineitem: Mapped[str] = mapped_column(Text)
    grade_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_timestamp: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_item_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


_scores = cast(Table, LineItemScore.__table__)  # a declarative class maps one Table; its stubs only promise a FromClause


def destination_for(registration_id: int) -> str:
    return f"ags:{registration_id}"


def _registration_id(destination: str) -> int | None:
    """The registration of an ``ags:<id>`` destination; ``None`` for any other name."""
    prefix, _, rest = destination.partition(":")
    try:
        return int(rest) if prefix == KIND else None
    except ValueError:
        return None


def lineitem_key(lineitem: str) -> str:
    return hashlib.sha256(lineitem.encode("utf-8")).hexdigest()


def _timestamp(now: datetime) -> str:
    return now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # SQLite keeps no offset; we only store UTC
        return value.replace(tzinfo=UTC)
    return value


def grade_key(score: Mapping[str, Any]) -> str:
    """What the gradebook would show: an unchanged key needs no new score."""
    return f"{score.get('scoreGiven')}|{score['activityProgress']}|{score['gradingProgress']}"


def grade_for(user_id: str, points: float, max_points: float, progress: float, completed: bool, judged: bool, now: datetime) -> dict[str, Any]:
    """The Score (AGS 2.0 §3.4) for a learner's state in a course.

    With quizzes: points of ``max_points``, ``FullyGraded`` once every quiz is answered (before that
    ``Pending``). Without quizzes the grade is completion: 1 of 1 when completed, else the progress fraction.
    """
    if max_points > 0:
        given, maximum = float(points), float(max_points)
        grading = "FullyGraded" if judged else "Pending"
    else:
        given, maximum = (1.0 if completed else round(progress, 4)), 1.0
        grading = "FullyGraded" if completed else "Pending"
    activity = "Completed" if completed else ("InProgress" if progress > 0 or points > 0 else "Started")
    return {
        "userId": user_id,
        "scoreGiven": given,
        "scoreMaximum": maximum,
        "activityProgress": activity,
        "gradingProgress": grading,
        "timestamp": _timestamp(now),
    }


def enqueue_score(session: Session, registration_id: int, lineitem: str, score: Mapping[str, Any], *, restamps: int = 0) -> str:
    """Insert one outbox row for ``score`` as given, in the caller's transaction; returns its outbox item id.

    Low level: :func:`queue_score` is what the product calls (timestamps, de-duplication, superseding).
    """
    item_id = str(uuid.uuid4())
    now = outbox.utcnow()
    payload: dict[str, Any] = {"lineitem": lineitem, "score": dict(score)}
    if restamps:
        payload["restamps"] = restamps
    session.execute(
        outbox.outbox_table.insert().values(
            kind=KIND,
            destination=destination_for(registration_id),
            item_id=item_id,
            payload=json.dumps(payload, sort_keys=True, separators=(",", ":")),
            status=outbox.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    return item_id


def _locked_state(session: Session, registration_id: int, subject: str, lineitem: str, now: datetime) -> Any:
    """The (line item, user) row, created when missing, locked until the caller's commit.

    The insert comes first on purpose: on SQLite it takes the database's write lock (no
    ``SELECT ... FOR UPDATE`` there); on PostgreSQL ``ON CONFLICT DO NOTHING`` then ``FOR UPDATE``
    makes two processes queueing for one learner at once take turns.
    """
    key = lineitem_key(lineitem)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(_scores)
        .values(registration_id=registration_id, subject=subject, lineitem_key=key, lineitem=lineitem, grade_key=None,
                last_timestamp=None, last_item_id=None, updated_at=now)
        .on_conflict_do_nothing(index_elements=["registration_id", "subject", "lineitem_key"])
    )
    return session.execute(
        select(_scores).where(_scores.c.registration_id == registration_id, _scores.c.subject == subject,
                              _scores.c.lineitem_key == key).with_for_update()
    ).one()


def current_grade_key(session: Session, registration_id: int, subject: str, lineitem: str) -> str | None:
    """What this line item last got queued for this learner (no lock: a cheap check before :func:`queue_score`)."""
    return session.execute(
        select(_scores.c.grade_key).where(_scores.c.registration_id == registration_id, _scores.c.subject == subject,
                                          _scores.c.lineitem_key == lineitem_key(lineitem))
    ).scalar()


def _next_timestamp(last: datetime | None, now: datetime) -> datetime:
    """``now`` (to the millisecond), but at least one second after ``last``: strictly later in whole seconds too."""
    stamp = now.astimezone(UTC).replace(microsecond=now.microsecond // 1000 * 1000)
    last = _utc(last)
    return max(stamp, last + STEP) if last is not None else stamp


def _supersede(session: Session, destination: str, item_id: str, by: str, now: datetime) -> None:
    t = outbox.outbox_table
    session.execute(
        update(t)
        .where(t.c.destination == destination, t.c.item_id == item_id, t.c.status == outbox.PENDING,
               or_(t.c.lease_until.is_(None), t.c.lease_until < now))
        .values(status=outbox.SUPERSEDED, delivered_at=now, lease_token=None, lease_until=None,
                last_error=f"superseded: score {by} for the same line item and user was queued before this one was sent")
    )


def queue_score(session: Session, registration_id: int, lineitem: str, score: Mapping[str, Any], now: datetime,
                *, force: bool = False, restamps: int = 0) -> str | None:
    """Queue ``score`` for ``lineitem`` in the caller's transaction, unless that line item already has this grade.

    Returns the outbox item id, or ``None`` when nothing was queued. The score's ``timestamp`` is
    replaced by one strictly later (whole seconds) than the last one queued for this line item and
    user; a score of theirs still waiting is superseded. ``force`` queues even an unchanged grade
    (a re-stamped copy of a refused score).
    """
    subject = str(score["userId"])
    state = _locked_state(session, registration_id, subject, lineitem, now)
    key = grade_key(score)
    if key == state.grade_key and not force:
        return None
    stamp = _next_timestamp(state.last_timestamp, now)
    stamped = {**score, "timestamp": _timestamp(stamp)}
    item_id = enqueue_score(session, registration_id, lineitem, stamped, restamps=restamps)
    if state.last_item_id:
        _supersede(session, destination_for(registration_id), state.last_item_id, item_id, now)
    session.execute(
        update(_scores).where(_scores.c.id == state.id)
        .values(grade_key=key, last_timestamp=stamp, last_item_id=item_id, updated_at=now)
    )
    return item_id


def scores_url(lineitem: str) -> str:
    """``<lineitem>/scores``, keeping a query string where it is (AGS 2.0 §3.4: some platforms put ids in it)."""
    parts = urlsplit(lineitem)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/scores", parts.query, ""))


class AgsSender:
    """The delivery worker's sender for LTI AGS scores (``kind = "ags"``, destination ``ags:<registration id>``).

    Registered with :class:`xapi.delivery.worker.Worker` like any sender (``xapi`` knows nothing of LTI);
    :meth:`run_once` and :meth:`run_forever` run a worker with this sender alone (``smeb ags-worker``, tests).
    """

    kind = KIND

    def __init__(self, engine: Engine, services: Any, policy: DeliveryPolicy | None = None,
                 stop: threading.Event | None = None) -> None:
        self.engine = engine
        self.services = services  # smeb_lti.lti.services.LtiServices
        self.policy = policy or DeliveryPolicy(batch_size=20)
        self.stop = stop or threading.Event()

    def run_once(self) -> PassStats:
        with Worker(self.engine, stop=self.stop, senders=[self]) as worker:
            return worker.run_once()

    def run_forever(self, idle_seconds: float = 1.0) -> PassStats:
        with Worker(self.engine, stop=self.stop, senders=[self]) as worker:
            return worker.run_forever(idle_seconds)

    def close(self) -> None:
        """Nothing held across batches: the HTTP session belongs to the LTI services."""

    def destinations(self, waiting: Sequence[str], stats: PassStats) -> list[str]:
        return [name for name in waiting if _registration_id(name) is not None]

    def _connector(self, registration_id: int) -> Any:
        with self.services.sessions() as session:
            row = registrations.get(session, registration_id)
            signing = keys.signing_key(session, self.services.fernet)
            session.commit()
            registration = ToolRegistration(row, signing)
        return self.services.connector_cls(registration, self.services.http)

    def send(self, destination: str, batch: Batch) -> PassStats:
        """Post the batch's scores one by one (AGS has no batch POST), with one access token."""
        stats = PassStats()
        registration_id = _registration_id(destination)
        assert registration_id is not None  # destinations() serves no other name
        rows = batch.rows
        try:
            connector = self._connector(registration_id)
            access_token = connector.get_access_token([SCOPE_SCORE])
        except Exception as error:
            batch.reschedule(rows, f"no access token for {destination}: {error}")
            stats.rescheduled += len(rows)
            stats.errors.append(str(error))
            log.warning("AGS %s: no access token: %s", destination, error)
            return stats
        for row in rows:
            outcome = self._post(connector, access_token, row)
            stats.requests += 1
            if outcome == "delivered":
                batch.delivered([row.id])
                stats.delivered += 1
            elif outcome.startswith("conflict"):
                settled = self._settle_conflict(registration_id, batch.token, row, outcome)
                if settled.startswith("parked"):
                    stats.parked += 1
                    log.warning("AGS %s: parked score %s: %s", destination, row.item_id, settled)
                else:
                    log.info("AGS %s: score %s %s", destination, row.item_id, settled)
            elif outcome.startswith("parked"):
                batch.park([row.id], outcome)
                stats.parked += 1
                log.warning("AGS %s: parked score %s: %s", destination, row.item_id, outcome)
            else:
                if outcome.startswith("unauthorized"):
                    self.services.store.delete(connector._scope_key([SCOPE_SCORE]))
                rest = [r for r in rows if r.id >= row.id]
                batch.reschedule(rest, outcome)
                stats.rescheduled += len(rest)
                stats.errors.append(outcome)
                log.warning("AGS %s: %s (%d scores kept for later)", destination, outcome, len(rest))
                return stats
        return stats

    def _post(self, connector: Any, access_token: str, row: outbox.OutboxRow) -> str:
        """``delivered``, ``conflict: …`` (409), ``parked: …`` (a 4xx resending cannot fix), ``unauthorized: …`` or ``retry: …``."""
        payload = json.loads(row.payload)
        url = scores_url(payload["lineitem"])
        try:
            response = self.services.http.post(
                url,
                data=json.dumps(payload["score"]),
                headers={"Authorization": "Bearer " + access_token, "Content-Type": SCORE_MEDIA_TYPE},
                timeout=self.policy.timeout,
            )
        except requests.RequestException as error:
            return f"retry: POST {url} failed: {error}"
        status = response.status_code
        if 200 <= status < 300:
            return "delivered"
        detail = " ".join(response.text[:500].split())
        if status == 401:
            return f"unauthorized: {url} answered 401 {detail}"
        if status == 409:
            return f"conflict: {url} answered 409 {detail}"
        if 400 <= status < 500 and status not in RETRYABLE_4XX:
            return f"parked: {url} answered {status} {detail}"
        return f"retry: {url} answered {status} {detail}"

    def _settle_conflict(self, registration_id: int, token: str, row: outbox.OutboxRow, answer: str) -> str:
        """The platform holds a result at least as new as this score (Moodle: same or later second). Never resent as is.

        * a newer score of ours for this line item and user is queued → this one is ``superseded`` (nothing lost);
        * else, the first time → re-queued with a fresh timestamp (scores queued before timestamps were
          kept per line item, or a tool clock behind the LMS's) and this one ``superseded`` by the copy;
        * else → parked with the platform's answer: someone else wrote a newer grade; a human decides.
        """
        payload = json.loads(row.payload)
        score, lineitem = payload["score"], payload["lineitem"]
        answer = answer.removeprefix("conflict: ")
        now = outbox.utcnow()
        t = outbox.outbox_table
        mine = (t.c.id == row.id, t.c.lease_token == token, t.c.status == outbox.PENDING)
        with Session(self.engine) as session, session.begin():
            state = _locked_state(session, registration_id, str(score["userId"]), lineitem, now)
            last = _utc(state.last_timestamp)
            if state.last_item_id not in (None, row.item_id) and last is not None and last > _parse_timestamp(score["timestamp"]):
                outcome = f"superseded: {answer}; score {state.last_item_id} for the same line item and user is newer"
            elif int(payload.get("restamps") or 0) < MAX_RESTAMPS:
                copy = queue_score(session, registration_id, lineitem, score, now, force=True, restamps=int(payload.get("restamps") or 0) + 1)
                outcome = f"superseded: {answer}; re-queued as {copy} with a later timestamp"
            else:
                outcome = (f"parked: {answer} (already re-queued once with a later timestamp): a newer grade was set at the platform"
                           " (by hand, or the tool's clock is behind the LMS's); the learner's next graded step sends a new score")
                session.execute(update(t).where(*mine).values(status=outbox.PARKED, lease_token=None, lease_until=None,
                                                              last_error=outcome[:4000], attempts=t.c.attempts + 1))
                return outcome
            session.execute(update(t).where(*mine).values(status=outbox.SUPERSEDED, delivered_at=now, lease_token=None, lease_until=None,
                                                          last_error=outcome[:4000], attempts=t.c.attempts + 1))
        return outcome
