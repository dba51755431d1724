"""LTI Assignment and Grade Services 2.0: scores queued in the outbox, then posted to the platform.

The player host queues a score in the learner event's transaction (:func:`enqueue_score`): a row
of the xAPI outbox with ``kind = "ags"`` and destination ``ags:<registration id>``; the payload is
``{"lineitem": URL, "score": {...}}``. :class:`AgsSender` delivers them: an access token per
registration (client-credentials grant with a JWT signed by the tool's key, cached in the shared
store by pylti1p3's connector, :class:`smeb_lti.lti.validation.ToolServiceConnector`), then
``POST <lineitem>/scores`` with ``application/vnd.ims.lis.v1.score+json``.

Outcomes: 2xx → delivered; 401 → token dropped and retried later; other 4xx → parked (a human
looks, ``smeb outbox parked``); 5xx, timeouts, unreachable platform → retried with backoff.
Scores carry their own timestamp, so a late retry never overwrites a newer grade at the platform
(AGS 2.0 §3.4.8).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit

import requests
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from smeb_lti.lti import claims as c
from xapi import outbox
from xapi.delivery import DeliveryPolicy, PassStats, backoff_delay

log = logging.getLogger("smeb_lti.ags")

SCOPE_SCORE = c.SCOPE_SCORE
KIND = "ags"
SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"
PERMANENT = (400, 403, 404, 405, 406, 410, 413, 415, 422)


def destination_for(registration_id: int) -> str:
    return f"ags:{registration_id}"


def _timestamp(now: datetime) -> str:
    return now.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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


def enqueue_score(session: Session, registration_id: int, lineitem: str, score: Mapping[str, Any]) -> str:
    """Queue one score for the platform in the caller's transaction; returns its outbox item id."""
    item_id = str(uuid.uuid4())
    now = outbox.utcnow()
    session.execute(
        outbox.outbox_table.insert().values(
            kind=KIND,
            destination=destination_for(registration_id),
            item_id=item_id,
            payload=json.dumps({"lineitem": lineitem, "score": dict(score)}, sort_keys=True, separators=(",", ":")),
            status=outbox.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    return item_id


def scores_url(lineitem: str) -> str:
    """``<lineitem>/scores``, keeping a query string where it is (AGS 2.0 §3.4: some platforms put ids in it)."""
    parts = urlsplit(lineitem)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/scores", parts.query, ""))


class AgsSender:
    """Delivers queued scores; one pass is :meth:`run_once` (the ``smeb demo`` worker and tests call it)."""

    def __init__(self, engine: Engine, services: Any, policy: DeliveryPolicy | None = None,
                 stop: threading.Event | None = None) -> None:
        self.engine = engine
        self.services = services  # smeb_lti.lti.services.LtiServices
        self.policy = policy or DeliveryPolicy(batch_size=20)
        self.stop = stop or threading.Event()

    def run_once(self) -> PassStats:
        stats = PassStats()
        with self.engine.connect() as conn:
            names = [n for n in outbox.pending_destinations(conn) if n.startswith("ags:")]
        for name in names:
            if self.stop.is_set():
                break
            stats.add(self.deliver_destination(name))
        return stats

    def run_forever(self, idle_seconds: float = 1.0) -> PassStats:
        total = PassStats()
        while not self.stop.is_set():
            stats = self.run_once()
            total.add(stats)
            if stats.requests == 0 or stats.rescheduled:
                self.stop.wait(idle_seconds)
        return total

    def _connector(self, registration_id: int) -> Any:
        from smeb_lti.lti import keys, registrations
        from smeb_lti.lti.tool_conf import ToolRegistration

        with self.services.sessions() as session:
            row = registrations.get(session, registration_id)
            signing = keys.signing_key(session, self.services.fernet)
            session.commit()
            registration = ToolRegistration(row, signing)
        return self.services.connector_cls(registration, self.services.http)

    def deliver_destination(self, name: str) -> PassStats:
        stats = PassStats()
        try:
            registration_id = int(name.split(":", 1)[1])
        except ValueError:
            return stats
        while not self.stop.is_set():
            token, rows = outbox.claim_batch(self.engine, name, limit=self.policy.batch_size,
                                             lease_seconds=self.policy.lease_seconds, kind=KIND)
            if not rows:
                break
            try:
                connector = self._connector(registration_id)
                access_token = connector.get_access_token([SCOPE_SCORE])
            except Exception as error:
                self._reschedule(token, rows, f"no access token for {name}: {error}")
                stats.rescheduled += len(rows)
                stats.errors.append(str(error))
                log.warning("AGS %s: no access token: %s", name, error)
                break
            for row in rows:
                outcome = self._post(connector, access_token, row)
                stats.requests += 1
                if outcome == "delivered":
                    outbox.mark_delivered(self.engine, [row.id])
                    stats.delivered += 1
                elif outcome.startswith("parked"):
                    outbox.park(self.engine, token, [row.id], outcome)
                    stats.parked += 1
                    log.warning("AGS %s: parked score %s: %s", name, row.item_id, outcome)
                else:
                    if outcome.startswith("unauthorized"):
                        self.services.store.delete(connector._scope_key([SCOPE_SCORE]))
                    rest = [r for r in rows if r.id >= row.id]
                    self._reschedule(token, rest, outcome)
                    stats.rescheduled += len(rest)
                    stats.errors.append(outcome)
                    log.warning("AGS %s: %s (%d scores kept for later)", name, outcome, len(rest))
                    return stats
        return stats

    def _post(self, connector: Any, access_token: str, row: outbox.OutboxRow) -> str:
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
        if 200 <= response.status_code < 300:
            return "delivered"
        detail = response.text[:500]
        if response.status_code == 401:
            return f"unauthorized: {url} answered 401 {detail}"
        if response.status_code in PERMANENT:
            return f"parked: {url} answered {response.status_code} {detail}"
        return f"retry: {url} answered {response.status_code} {detail}"

    def _reschedule(self, token: str, rows: list[outbox.OutboxRow], reason: str) -> None:
        delays = {r.id: backoff_delay(r.attempts, self.policy.backoff_base, self.policy.backoff_cap) for r in rows}
        outbox.reschedule(self.engine, token, delays, reason)
