"""A learner's data, exported and erased across every store of the tool (GDPR articles 15, 17 and 20).

A learner is named by the LTI platform's issuer and ``sub``; :func:`resolve_subject` turns that into a
:class:`SubjectRef` that also knows the learner's pseudonymous xAPI accounts (``xapi.actors``: one per
customer — platform, deployment, LMS context — the learner was seen in, plus the id of the earlier
one-per-LMS scheme so records made before the change are found too), the platform registrations of
that issuer and the key of the survey de-duplication tokens.

Each store has one small pair of functions, ``export_<store>(session, ref) -> dict`` and
``erase_<store>(session, ref) -> int`` (rows changed), registered in :data:`STORES`.
:func:`export_learner` gathers one JSON document; :func:`erase_learner` runs every eraser in the
caller's ONE transaction and writes an :class:`ErasureReceipt` (what, how many, when, by whom — no
personal data); any failure rolls the whole erasure back.

Tables are named here as the migrations define them (reflected, not imported from the owning
modules), so this module depends on the schema, which only changes through migrations.

Not erasure: voiding. Statements already forwarded to a customer's LRS are voided there (a
``voided`` statement per forwarded statement, queued in the outbox by :func:`erase_outbox`), but a
voided statement stays in that LRS; the customer erases it there (docs/privacy.md).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.db import Base

FORMAT = "smeb-learner-export/1"
# The agent of the voiding statements an erasure queues: the tool, never the learner.
ERASURE_AGENT: dict[str, Any] = {"objectType": "Agent", "name": "SMEB personvern", "account": {"homePage": "https://smeb.no", "name": "erasure"}}
_VOID_NAMESPACE = uuid.UUID("0b6f3c1e-6a43-5f4e-9d0e-2f6a8e1c7d11")
SURVEY_TOKEN_LABEL = b"smeb-survey-answer-token"  # = smeb_lti.surveys.ANSWER_TOKEN_LABEL (checked by the tests)
ERASED_SUBJECT = "smeb:erased"  # stands in for an erased learner where a row must stay (forum threads, certificates)


# -- errors ------------------------------------------------------------------------------------


class PrivacyError(Exception):
    """Base class of export and erasure errors; the message says what to do."""


class UnknownLearner(PrivacyError):
    """No platform registration has this issuer: check ``--issuer`` against ``smeb platform list``."""


class ErasureFailed(PrivacyError):
    """One store could not be erased; the whole erasure was rolled back (nothing was erased)."""

    def __init__(self, store: str, cause: BaseException) -> None:
        self.store = store
        super().__init__(
            f"erasing store {store!r} failed ({type(cause).__name__}: {cause}); nothing was erased. "
            "Fix the cause and run the erasure again."
        )


# -- the receipts table (Alembic branch "privacy") ---------------------------------------------

receipts = sa.Table(
    "privacy_erasures",
    Base.metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("erased_by", sa.String(200), nullable=False),
    sa.Column("platform_issuer", sa.String(512), nullable=False),
    sa.Column("counts", sa.Text(), nullable=False),
    sa.Column("voids_queued", sa.Integer(), nullable=False),
    sa.Column("certificates_kept", sa.Boolean(), nullable=False),
    sa.Index("ix_privacy_erasures_erased_at", "erased_at"),
)


# -- who -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrivacyKeys:
    """The server keys that derive the learner's pseudonyms (from the app: :func:`keys_from_app`)."""

    actor_key: bytes  # HMAC key of the pseudonymous xAPI account names
    secret_key: str  # Flask SECRET_KEY: the survey answer tokens derive from it

    def __repr__(self) -> str:
        return "PrivacyKeys(<hidden>)"


@dataclass(frozen=True)
class SubjectRef:
    """One learner: platform issuer + ``sub``, and the pseudonyms our stores know them by."""

    issuer: str
    subject: str
    actor_names: tuple[str, ...]  # the opaque xAPI account names: one per customer, then the legacy one
    registration_ids: tuple[int, ...]
    survey_key: bytes = field(repr=False, default=b"")

    @property
    def actor_ifis(self) -> frozenset[str]:
        """The IFIs as the LRS indexes them (``smeb_lti.lrs.statements.agent_ifi``)."""
        return frozenset(f"account:{self.issuer}|{name}" for name in self.actor_names)

    @property
    def actors(self) -> list[dict[str, Any]]:
        return [{"objectType": "Agent", "account": {"homePage": self.issuer, "name": name}} for name in self.actor_names]

    def survey_token(self, survey_id: str, period: int) -> str:
        """The de-duplication token of this learner's answer (``smeb_lti.surveys`` ``learner_key``)."""
        message = b"\x00".join(p.encode("utf-8") for p in (self.issuer, self.subject, survey_id, str(period)))
        return hmac.new(self.survey_key, message, hashlib.sha256).hexdigest()


def keys_from_app(app: Any) -> PrivacyKeys:
    """The keys the running tool uses (``SMEB_XAPI_ACTOR_KEY`` or derived from ``SECRET_KEY``)."""
    from smeb_lti import player_host

    with app.app_context():
        return PrivacyKeys(actor_key=player_host.actor_key(), secret_key=str(app.config["SECRET_KEY"]))


def customer_scopes(session: Session, issuer: str, subject: str, *, bare_deployments: bool = True) -> list[Any]:
    """Every customer (:class:`xapi.customers.CustomerScope`) the learner may have a pseudonym in.

    The companies the tool saw the learner in: the dashboard's members (every player launch records
    one), certificates, workshop participations and stored launches; and (``bare_deployments``) each
    deployment of the issuer without a context, for launches that had none.
    """
    from xapi.customers import CustomerScope

    regs, deps = _t(session, "lti_registrations"), _t(session, "lti_deployments")
    clients = dict(session.execute(sa.select(regs.c.id, regs.c.client_id).where(regs.c.issuer == issuer)).all())
    by_deployment: dict[str, set[int]] = {}
    for registration_id, deployment_id in session.execute(
            sa.select(deps.c.registration_id, deps.c.deployment_id).where(deps.c.registration_id.in_(list(clients) or [-1]))):
        by_deployment.setdefault(deployment_id, set()).add(registration_id)
    found: set[tuple[int, str, str | None]] = {(r, d, None) for d, regs_ in by_deployment.items() for r in regs_} if bare_deployments else set()
    members = _t(session, "dashboard_members")
    found |= set(tuple(r) for r in session.execute(sa.select(members.c.registration_id, members.c.deployment_id, members.c.context_id).where(
        members.c.registration_id.in_(list(clients) or [-1]), members.c.subject == subject)).all())
    participants, companies = _t(session, "workshop_participants"), _t(session, "workshop_companies")
    found |= set(tuple(r) for r in session.execute(sa.select(companies.c.registration_id, companies.c.deployment_id, companies.c.context_id)
                                 .join(participants, participants.c.company_id == companies.c.id)
                                 .where(participants.c.issuer == issuer, participants.c.subject == subject)).all())
    certs = _t(session, "cert_certificates")
    for deployment_id, context_id in session.execute(sa.select(certs.c.deployment_id, certs.c.context_id).where(
            certs.c.platform_issuer == issuer, certs.c.learner_subject == subject)).all():
        found |= {(r, deployment_id, context_id) for r in by_deployment.get(deployment_id, ())}
    launches = _t(session, "lti_launches")
    for registration_id, claims in session.execute(sa.select(launches.c.registration_id, launches.c.claims).where(
            launches.c.registration_id.in_(list(clients) or [-1]), launches.c.claims.contains(json.dumps(subject), autoescape=True))):
        data = json.loads(claims)
        if data.get("sub") == subject and data.get("iss") == issuer:
            context = (data.get("https://purl.imsglobal.org/spec/lti/claim/context") or {}).get("id")
            deployment = data.get("https://purl.imsglobal.org/spec/lti/claim/deployment_id")
            if deployment:
                found.add((registration_id, str(deployment), str(context) if context else None))
    return sorted({CustomerScope(issuer, clients[r], d or None, c or None) for r, d, c in found if r in clients},
                  key=lambda s: (s.client_id or "", s.deployment_id or "", s.context_id or ""))


def pseudonyms_of(keys: PrivacyKeys, issuer: str, subject: str, scopes: Iterable[Any]) -> tuple[str, ...]:
    """The learner's account names: one per customer scope, then the legacy (one per LMS) name."""
    from xapi.actors import customer_key, legacy_account_name, opaque_account_name

    names = [opaque_account_name(customer_key(keys.actor_key, scope), issuer, subject) for scope in scopes]
    names.append(legacy_account_name(keys.actor_key, issuer, subject))
    return tuple(dict.fromkeys(names))


def resolve_subject(session: Session, issuer: str, subject: str, keys: PrivacyKeys) -> SubjectRef:
    """The :class:`SubjectRef` of ``subject`` at ``issuer``; :class:`UnknownLearner` for an unknown issuer."""
    if not issuer or not subject:
        raise UnknownLearner("both --issuer and --subject are needed (the LTI 'iss' and 'sub' of the learner)")
    regs = _t(session, "lti_registrations")
    ids = tuple(session.scalars(sa.select(regs.c.id).where(regs.c.issuer == issuer).order_by(regs.c.id)))
    if not ids:
        raise UnknownLearner(f"no platform is registered with issuer {issuer!r}: check it with `smeb platform list`")
    survey_key = hmac.new(keys.secret_key.encode("utf-8"), SURVEY_TOKEN_LABEL, hashlib.sha256).digest()
    names = pseudonyms_of(keys, issuer, subject, customer_scopes(session, issuer, subject))
    return SubjectRef(issuer, subject, names, ids, survey_key)


# -- helpers -------------------------------------------------------------------------------------


_REFLECTED: weakref.WeakKeyDictionary[Any, dict[str, sa.Table]] = weakref.WeakKeyDictionary()


def _t(session: Session, name: str) -> sa.Table:
    """The table as the migrations made it (reflected once per engine, so every column is exported)."""
    engine = session.get_bind()
    tables = _REFLECTED.setdefault(engine, {})
    if name not in tables:
        tables[name] = sa.Table(name, sa.MetaData(), autoload_with=session.connection())
    return tables[name]


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (bytes, memoryview)):
        data = bytes(value)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(data).decode("ascii")}
    return value


def _dicts(rows: Iterable[Any], *, parse: Sequence[str] = (), drop: Sequence[str] = ()) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        item = {k: _plain(v) for k, v in row._mapping.items() if k not in drop}
        for key in parse:
            if isinstance(item.get(key), str):
                try:
                    item[key] = json.loads(item[key])
                except ValueError:
                    pass
        out.append(item)
    return out


def _count(result: Any) -> int:
    return int(result.rowcount or 0)


def _in_chunks(values: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _mine(session: Session, ref: SubjectRef, name: str) -> tuple[sa.Table, sa.ColumnElement[bool]]:
    """A table keyed by (registration_id, subject) and the condition for this learner's rows."""
    table = _t(session, name)
    return table, sa.and_(table.c.registration_id.in_(ref.registration_ids), table.c.subject == ref.subject)


# -- LTI launches and the short-lived LTI store --------------------------------------------------


def _launch_ids(session: Session, ref: SubjectRef) -> list[str]:
    table = _t(session, "lti_launches")
    found = []
    rows = session.execute(sa.select(table.c.launch_id, table.c.claims).where(
        table.c.registration_id.in_(ref.registration_ids), table.c.claims.contains(json.dumps(ref.subject), autoescape=True)))
    for launch_id, claims in rows:
        data = json.loads(claims)
        if data.get("sub") == ref.subject and data.get("iss") == ref.issuer:
            found.append(launch_id)
    return found


def export_launches(session: Session, ref: SubjectRef) -> dict[str, Any]:
    table = _t(session, "lti_launches")
    ids = _launch_ids(session, ref)
    rows: Iterable[Any] = session.execute(sa.select(table).where(table.c.launch_id.in_(ids)).order_by(table.c.created_at)) if ids else []
    return {"launches": _dicts(rows, parse=("claims",), drop=("launch_id",))}  # the launch id is a bearer secret


def erase_launches(session: Session, ref: SubjectRef) -> int:
    table = _t(session, "lti_launches")
    ids = _launch_ids(session, ref)
    return sum(_count(session.execute(sa.delete(table).where(table.c.launch_id.in_(chunk)))) for chunk in _in_chunks(ids))


def _names_subject(value: Any, ref: SubjectRef) -> bool:
    """Whether any string in the JSON value is the learner's ``sub`` (login states keep ``login_hint``, often the same id)."""
    if isinstance(value, Mapping):
        return any(_names_subject(v, ref) for v in value.values())
    if isinstance(value, list):
        return any(_names_subject(v, ref) for v in value)
    return value == ref.subject


def _kv_keys(session: Session, ref: SubjectRef) -> list[str]:
    table = _t(session, "lti_kv")
    found = []
    for key, value in session.execute(sa.select(table.c.key, table.c.value).where(table.c.value.contains(ref.subject, autoescape=True))):
        try:
            if _names_subject(json.loads(value), ref):
                found.append(key)
        except ValueError:
            continue
    return found


def export_lti_kv(session: Session, ref: SubjectRef) -> dict[str, Any]:
    # OIDC login states live ten minutes and hold the login parameters only: counted, not exported.
    return {"short_lived_entries": len(_kv_keys(session, ref))}


def erase_lti_kv(session: Session, ref: SubjectRef) -> int:
    table = _t(session, "lti_kv")
    keys = _kv_keys(session, ref)
    return sum(_count(session.execute(sa.delete(table).where(table.c.key.in_(chunk)))) for chunk in _in_chunks(keys))


# -- player progress -----------------------------------------------------------------------------


def export_play(session: Session, ref: SubjectRef) -> dict[str, Any]:
    progress, mine = _mine(session, ref, "play_progress")
    rows = _dicts(session.execute(sa.select(progress).where(mine).order_by(progress.c.id)), parse=("answers",))
    events = _t(session, "play_events")
    for row in rows:
        row["events"] = _dicts(session.execute(sa.select(events.c.event_id, events.c.received_at).where(events.c.progress_id == row["id"])))
    return {"progress": rows}


def erase_play(session: Session, ref: SubjectRef) -> int:
    progress, mine = _mine(session, ref, "play_progress")
    events = _t(session, "play_events")
    ids = list(session.scalars(sa.select(progress.c.id).where(mine)))
    if not ids:
        return 0
    removed = _count(session.execute(sa.delete(events).where(events.c.progress_id.in_(ids))))
    return removed + _count(session.execute(sa.delete(progress).where(progress.c.id.in_(ids))))


# -- grades sent to the LMS (AGS line item scores) ------------------------------------------------


def export_ags_scores(session: Session, ref: SubjectRef) -> dict[str, Any]:
    scores, mine = _mine(session, ref, "ags_line_item_scores")
    return {"line_item_scores": _dicts(session.execute(sa.select(scores).where(mine).order_by(scores.c.id)))}


def erase_ags_scores(session: Session, ref: SubjectRef) -> int:
    scores, mine = _mine(session, ref, "ags_line_item_scores")
    return _count(session.execute(sa.delete(scores).where(mine)))


# -- dashboard -----------------------------------------------------------------------------------


def export_dashboard(session: Session, ref: SubjectRef) -> dict[str, Any]:
    members, mine = _mine(session, ref, "dashboard_members")
    teams, mine_teams = _mine(session, ref, "dashboard_teams")
    return {
        "memberships": _dicts(session.execute(sa.select(members).where(mine).order_by(members.c.id))),
        "teams": _dicts(session.execute(sa.select(teams).where(mine_teams))),
    }


def erase_dashboard(session: Session, ref: SubjectRef) -> int:
    members, mine = _mine(session, ref, "dashboard_members")
    teams, mine_teams = _mine(session, ref, "dashboard_teams")
    return _count(session.execute(sa.delete(members).where(mine))) + _count(session.execute(sa.delete(teams).where(mine_teams)))


# -- journal (zero knowledge: we hold ciphertext and wrapped keys only) ---------------------------


def export_journal(session: Session, ref: SubjectRef) -> dict[str, Any]:
    keyrings, mine_keys = _mine(session, ref, "journal_keyrings")
    entries, mine_entries = _mine(session, ref, "journal_entries")
    return {
        "note": "entries are encrypted in the learner's browser; only the learner's passphrase or recovery code opens them",
        "keyrings": _dicts(session.execute(sa.select(keyrings).where(mine_keys))),
        "entries": _dicts(session.execute(sa.select(entries).where(mine_entries).order_by(entries.c.id))),
    }


def erase_journal(session: Session, ref: SubjectRef) -> int:
    keyrings, mine_keys = _mine(session, ref, "journal_keyrings")
    entries, mine_entries = _mine(session, ref, "journal_entries")
    return _count(session.execute(sa.delete(entries).where(mine_entries))) + _count(session.execute(sa.delete(keyrings).where(mine_keys)))


# -- forum ---------------------------------------------------------------------------------------


def _forum_profile_ids(session: Session, ref: SubjectRef) -> list[int]:
    profiles, mine = _mine(session, ref, "forum_profiles")
    return list(session.scalars(sa.select(profiles.c.id).where(mine)))


def export_forum(session: Session, ref: SubjectRef) -> dict[str, Any]:
    profiles, mine = _mine(session, ref, "forum_profiles")
    ids = _forum_profile_ids(session, ref)
    threads, posts, reports = _t(session, "forum_threads"), _t(session, "forum_posts"), _t(session, "forum_reports")
    moderators = _t(session, "forum_moderators")
    return {
        "profiles": _dicts(session.execute(sa.select(profiles).where(mine))),
        "threads_started": _dicts(session.execute(sa.select(threads).where(threads.c.author_id.in_(ids)).order_by(threads.c.id))),
        "posts": _dicts(session.execute(sa.select(posts).where(posts.c.author_id.in_(ids)).order_by(posts.c.id))),
        "reports_made": _dicts(session.execute(sa.select(reports).where(reports.c.reporter_id.in_(ids)).order_by(reports.c.id))),
        "moderator": _dicts(session.execute(
            sa.select(moderators).where(moderators.c.issuer == ref.issuer, moderators.c.subject == ref.subject))),
    }


def _tombstone_profile(session: Session, registration_id: int) -> int:
    """The per-registration stand-in author of threads whose other replies must stay (created once)."""
    profiles = _t(session, "forum_profiles")
    where = sa.and_(profiles.c.registration_id == registration_id, profiles.c.subject == ERASED_SUBJECT)
    found = session.scalar(sa.select(profiles.c.id).where(where))
    if found is not None:
        return int(found)
    now = dt.datetime.now(dt.UTC)
    session.execute(sa.insert(profiles).values(registration_id=registration_id, subject=ERASED_SUBJECT,
                                               display_name="Slettet bruker", trade="-", employer=None, created_at=now, updated_at=now))
    return int(session.scalar(sa.select(profiles.c.id).where(where)))  # type: ignore[arg-type]


def erase_forum(session: Session, ref: SubjectRef) -> int:
    """Posts, reports, notifications and profile go; a started thread with others' replies keeps them under 'Slettet bruker'."""
    profiles = _t(session, "forum_profiles")
    threads, posts = _t(session, "forum_threads"), _t(session, "forum_posts")
    reports, notifications = _t(session, "forum_reports"), _t(session, "forum_notifications")
    moderators = _t(session, "forum_moderators")
    ids = _forum_profile_ids(session, ref)
    changed = _count(session.execute(sa.delete(moderators).where(moderators.c.issuer == ref.issuer, moderators.c.subject == ref.subject)))
    if not ids:
        return changed
    own_posts = list(session.scalars(sa.select(posts.c.id).where(posts.c.author_id.in_(ids))))
    if own_posts:
        # Children first: replies of others to these posts lose their parent (the FK says SET NULL; done here explicitly).
        session.execute(sa.update(posts).where(posts.c.parent_id.in_(own_posts)).values(parent_id=None))
        changed += _count(session.execute(sa.delete(reports).where(reports.c.post_id.in_(own_posts))))
        changed += _count(session.execute(sa.delete(notifications).where(notifications.c.post_id.in_(own_posts))))
        changed += _count(session.execute(sa.delete(posts).where(posts.c.id.in_(own_posts))))
    for thread_id, registration_id in session.execute(
        sa.select(threads.c.id, profiles.c.registration_id).join(profiles, profiles.c.id == threads.c.author_id).where(threads.c.author_id.in_(ids))
    ).all():
        if session.scalar(sa.select(sa.func.count()).select_from(posts).where(posts.c.thread_id == thread_id)):
            tombstone = _tombstone_profile(session, registration_id)
            changed += _count(session.execute(
                sa.update(threads).where(threads.c.id == thread_id).values(author_id=tombstone, title="(slettet)")))
        else:
            changed += _count(session.execute(sa.delete(threads).where(threads.c.id == thread_id)))
    changed += _count(session.execute(sa.delete(reports).where(reports.c.reporter_id.in_(ids))))
    changed += _count(session.execute(sa.delete(notifications).where(notifications.c.profile_id.in_(ids))))
    return changed + _count(session.execute(sa.delete(profiles).where(profiles.c.id.in_(ids))))


# -- surveys (anonymous answers; the token ties one to the learner while its period is open) -----


def _survey_answer_ids(session: Session, ref: SubjectRef) -> list[str]:
    answers = _t(session, "survey_answers")
    pairs = session.execute(sa.select(answers.c.survey_id, answers.c.period).where(answers.c.token.is_not(None)).distinct()).all()
    tokens = [ref.survey_token(survey_id, period) for survey_id, period in pairs]
    found: list[str] = []
    for chunk in _in_chunks(tokens):
        found += session.scalars(sa.select(answers.c.id).where(answers.c.token.in_(chunk)))
    return found


def export_surveys(session: Session, ref: SubjectRef) -> dict[str, Any]:
    answers = _t(session, "survey_answers")
    ids = _survey_answer_ids(session, ref)
    rows: Iterable[Any] = session.execute(sa.select(answers).where(answers.c.id.in_(ids))) if ids else []
    return {
        "note": "answers of closed periods are anonymous (no link to anyone is kept) and cannot be found or exported",
        "open_answers": _dicts(rows, parse=("answers",), drop=("token",)),
    }


def erase_surveys(session: Session, ref: SubjectRef) -> int:
    answers = _t(session, "survey_answers")
    ids = _survey_answer_ids(session, ref)
    return sum(_count(session.execute(sa.delete(answers).where(answers.c.id.in_(chunk)))) for chunk in _in_chunks(ids))


# -- workshops -----------------------------------------------------------------------------------


def export_workshops(session: Session, ref: SubjectRef) -> dict[str, Any]:
    participants = _t(session, "workshop_participants")
    attendance, submissions = _t(session, "workshop_attendance"), _t(session, "workshop_submissions")
    rows = _dicts(session.execute(
        sa.select(participants).where(participants.c.issuer == ref.issuer, participants.c.subject == ref.subject).order_by(participants.c.id)))
    for row in rows:
        row["attendance"] = _dicts(session.execute(sa.select(attendance).where(attendance.c.participant_id == row["id"])))
        row["submissions"] = _dicts(session.execute(sa.select(submissions).where(submissions.c.participant_id == row["id"])))
    return {"participations": rows}


def erase_workshops(session: Session, ref: SubjectRef) -> int:
    participants = _t(session, "workshop_participants")
    attendance, submissions = _t(session, "workshop_attendance"), _t(session, "workshop_submissions")
    ids = list(session.scalars(sa.select(participants.c.id).where(participants.c.issuer == ref.issuer, participants.c.subject == ref.subject)))
    if not ids:
        return 0
    changed = _count(session.execute(sa.delete(attendance).where(attendance.c.participant_id.in_(ids))))
    changed += _count(session.execute(sa.delete(submissions).where(submissions.c.participant_id.in_(ids))))
    return changed + _count(session.execute(sa.delete(participants).where(participants.c.id.in_(ids))))


# -- certificates --------------------------------------------------------------------------------


def _certificate_ids(session: Session, ref: SubjectRef) -> list[str]:
    table = _t(session, "cert_certificates")
    return list(session.scalars(
        sa.select(table.c.id).where(table.c.platform_issuer == ref.issuer, table.c.learner_subject == ref.subject).order_by(table.c.id)))


def export_certificates(session: Session, ref: SubjectRef) -> dict[str, Any]:
    table = _t(session, "cert_certificates")
    rows = session.execute(sa.select(table).where(table.c.platform_issuer == ref.issuer, table.c.learner_subject == ref.subject))
    return {"certificates": _dicts(rows, parse=("competences",))}


def _redacted_token(token: str) -> str:
    """The claims with the name replaced and no valid signature: status stays answerable, nothing names the learner."""
    from dataclasses import replace

    from smeb_lti.certificates import claims as signed

    payload, _signature = signed.split_token(token)
    claims = replace(signed.decode(payload), learner_name="(slettet)")
    return f"{signed.b64url(signed.encode(claims))}.{signed.b64url(bytes(64))}"


def erase_certificates(session: Session, ref: SubjectRef) -> int:
    """Revoke (reason ``erased-on-request``) and strip the name, subject, signed claims and credential."""
    table = _t(session, "cert_certificates")
    now = dt.datetime.now(dt.UTC)
    changed = 0
    for cert_id, token, revoked_at, reason in session.execute(
        sa.select(table.c.id, table.c.token, table.c.revoked_at, table.c.revocation_reason)
        .where(table.c.platform_issuer == ref.issuer, table.c.learner_subject == ref.subject)
    ).all():
        changed += _count(session.execute(sa.update(table).where(table.c.id == cert_id).values(
            learner_subject=ERASED_SUBJECT, learner_name="(slettet)", token=_redacted_token(token), credential_jwt="",
            revoked_at=revoked_at or now, revocation_reason="erased-on-request" if revoked_at is None else reason,
        )))
    return changed


# -- the embedded LRS ----------------------------------------------------------------------------


@dataclass
class _LrsFinding:
    seqs: dict[int, list[int]] = field(default_factory=dict)  # tenant -> statement seqs
    registrations: dict[int, set[str]] = field(default_factory=dict)
    sessions: dict[int, list[str]] = field(default_factory=dict)  # cmi5 sessions of the learner
    documents: dict[int, list[int]] = field(default_factory=dict)


def _lrs_find(session: Session, ref: SubjectRef) -> _LrsFinding:
    from smeb_lti.lrs import statements as st
    from smeb_lti.lrs import store

    found = _LrsFinding()
    s, links, docs = store.statements, store.statement_links, store.documents
    progress, mine = _mine(session, ref, "play_progress")
    attempts = {a.lower() for a in session.scalars(sa.select(progress.c.attempt).where(mine))}
    for tenant_id in session.scalars(sa.select(store.tenants.c.id)):
        ifis = sorted(ref.actor_ifis)
        seqs = set(session.scalars(sa.select(links.c.seq).where(
            links.c.tenant_id == tenant_id, links.c.kind == "agent", links.c.value.in_(ifis))))
        seqs |= set(session.scalars(sa.select(s.c.seq).where(s.c.tenant_id == tenant_id, s.c.actor_ifi.in_(ifis))))
        ids = set(session.scalars(sa.select(s.c.statement_id).where(s.c.seq.in_(sorted(seqs))))) if seqs else set()
        while ids:  # statements that refer to these (voiding, StatementRefs), and so on
            more = session.execute(sa.select(s.c.seq, s.c.statement_id).where(
                s.c.tenant_id == tenant_id, s.c.ref_id.in_(ids), s.c.seq.not_in(sorted(seqs)))).all()
            seqs |= {row.seq for row in more}
            ids = {row.statement_id for row in more}
        registrations = set(attempts)
        registrations |= {r for r in session.scalars(sa.select(s.c.registration).where(s.c.seq.in_(sorted(seqs)))) if r} if seqs else set()
        cmi5 = []
        for session_id, registration, actor_json in session.execute(sa.select(
                store.cmi5_sessions.c.session_id, store.cmi5_sessions.c.registration, store.cmi5_sessions.c.actor_json
        ).where(store.cmi5_sessions.c.tenant_id == tenant_id)):
            if st.agent_ifi(json.loads(actor_json)) in ref.actor_ifis:
                cmi5.append(session_id)
                registrations.add(registration.lower())
        # Documents are stored under a hash of (kind, activity, agent, registration): try every activity the tenant knows.
        activities = set(session.scalars(sa.select(s.c.activity_id).where(s.c.tenant_id == tenant_id, s.c.activity_id.is_not(None)).distinct()))
        activities |= set(session.scalars(sa.select(store.activities.c.activity_id).where(store.activities.c.tenant_id == tenant_id)))
        activities |= set(session.scalars(sa.select(store.cmi5_sessions.c.activity_id).where(store.cmi5_sessions.c.tenant_id == tenant_id)))
        # One name per customer the learner was seen in, plus the legacy one: a handful, so every combination is tried.
        scopes = {store.DocumentScope("agent", agent_ifi=ifi).hash for ifi in ref.actor_ifis}
        for ifi in ref.actor_ifis:
            for activity in activities:
                for registration in (None, *registrations):
                    scopes.add(store.DocumentScope("state", activity, ifi, registration).hash)
        doc_ids: list[int] = []
        scope_list = sorted(scopes)
        for chunk in _in_chunks(scope_list):
            doc_ids += session.scalars(sa.select(docs.c.id).where(docs.c.tenant_id == tenant_id, docs.c.scope_hash.in_(chunk)))
        if seqs:
            found.seqs[tenant_id] = sorted(seqs)
        if cmi5:
            found.sessions[tenant_id] = cmi5
        if doc_ids:
            found.documents[tenant_id] = doc_ids
        found.registrations[tenant_id] = registrations
    return found


def export_lrs(session: Session, ref: SubjectRef) -> dict[str, Any]:
    from smeb_lti.lrs import store

    found = _lrs_find(session, ref)
    out: dict[str, Any] = {}
    slugs = dict(session.execute(sa.select(store.tenants.c.id, store.tenants.c.slug)).all())
    for tenant_id, slug in slugs.items():
        seqs = found.seqs.get(tenant_id, [])
        statements = [json.loads(text) for chunk in _in_chunks(seqs) for text in session.scalars(
            sa.select(store.statements.c.full_json).where(store.statements.c.seq.in_(chunk)).order_by(store.statements.c.seq))]
        docs = found.documents.get(tenant_id, [])
        documents = _dicts(session.execute(sa.select(store.documents).where(store.documents.c.id.in_(docs)))) if docs else []
        sessions = found.sessions.get(tenant_id, [])
        cmi5 = _dicts(session.execute(sa.select(store.cmi5_sessions).where(store.cmi5_sessions.c.session_id.in_(sessions))),
                      parse=("actor_json",), drop=("fetch_hash",)) if sessions else []
        if statements or documents or cmi5:
            out[slug] = {"statements": statements, "documents": documents, "cmi5_sessions": cmi5}
    return {"tenants": out}


def erase_lrs(session: Session, ref: SubjectRef) -> int:
    """Statements about the learner (and those referring to them), their attachments, documents and cmi5 sessions."""
    from smeb_lti.lrs import store

    found = _lrs_find(session, ref)
    s, links, attachments = store.statements, store.statement_links, store.attachments
    changed = 0
    for tenant_id, seqs in found.seqs.items():
        hashes: set[str] = set()
        for chunk in _in_chunks(seqs):
            for text in session.scalars(sa.select(s.c.full_json).where(s.c.seq.in_(chunk), s.c.has_attachments.is_(True))):
                hashes |= {str(a["sha2"]) for a in json.loads(text).get("attachments") or [] if isinstance(a, dict) and a.get("sha2")}
            session.execute(sa.delete(links).where(links.c.seq.in_(chunk)))
            changed += _count(session.execute(sa.delete(s).where(s.c.seq.in_(chunk))))
        for sha2 in hashes:
            still_used = session.scalar(sa.select(s.c.seq).where(
                s.c.tenant_id == tenant_id, s.c.has_attachments.is_(True), s.c.full_json.contains(sha2, autoescape=True)).limit(1))
            if still_used is None:
                changed += _count(session.execute(sa.delete(attachments).where(attachments.c.tenant_id == tenant_id, attachments.c.sha2 == sha2)))
    for tenant_id, ids in found.documents.items():
        changed += _count(session.execute(sa.delete(store.documents).where(store.documents.c.id.in_(ids))))
    for tenant_id, sessions in found.sessions.items():
        registrations = set(session.scalars(sa.select(store.cmi5_sessions.c.registration).where(store.cmi5_sessions.c.session_id.in_(sessions))))
        changed += _count(session.execute(sa.delete(store.cmi5_sessions).where(store.cmi5_sessions.c.session_id.in_(sessions))))
        for registration in registrations:
            others = session.scalar(sa.select(sa.func.count()).select_from(store.cmi5_sessions).where(
                store.cmi5_sessions.c.tenant_id == tenant_id, store.cmi5_sessions.c.registration == registration))
            if not others:
                changed += _count(session.execute(sa.delete(store.cmi5_registrations).where(
                    store.cmi5_registrations.c.tenant_id == tenant_id, store.cmi5_registrations.c.registration == registration)))
    return changed


# -- the xAPI outbox (and the statements already forwarded upstream) -----------------------------


def _outbox_rows(session: Session, ref: SubjectRef) -> list[Any]:
    """Outbox rows about the learner: their statements (any agent position), their certificates' statements, their AGS scores."""
    from smeb_lti.lrs import statements as st
    from xapi.outbox import outbox_table as t

    certificates = _certificate_ids(session, ref)
    needles = [*ref.actor_names, *certificates]
    candidates = session.execute(sa.select(t).where(t.c.kind == "lrs", sa.or_(*(t.c.payload.contains(n, autoescape=True) for n in needles)))).all()
    found = []
    for row in candidates:
        statement = json.loads(row.payload)
        agents = {value for kind, value, _ in st.links(statement) if kind == "agent"}
        object_id = str((statement.get("object") or {}).get("id") or "")
        if agents & ref.actor_ifis or any(object_id.endswith("/verify/" + c) for c in certificates):
            found.append(row)
    ags = session.execute(sa.select(t).where(t.c.kind == "ags", t.c.destination.in_([f"ags:{r}" for r in ref.registration_ids]))).all()
    found += [row for row in ags if (json.loads(row.payload).get("score") or {}).get("userId") == ref.subject]
    return found


def export_outbox(session: Session, ref: SubjectRef) -> dict[str, Any]:
    rows = _outbox_rows(session, ref)
    return {"queued_and_sent": _dicts(sorted(rows, key=lambda r: r.id), parse=("payload",), drop=("lease_token", "last_error"))}


def void_statement_id(target_statement_id: str) -> str:
    """The id of the voiding statement for ``target``: the same on every run, so it is queued at most once."""
    return str(uuid.uuid5(_VOID_NAMESPACE, target_statement_id.lower()))


def _planned_voids(session: Session, ref: SubjectRef, rows: Sequence[Any] | None = None) -> list[tuple[str, str]]:
    """(destination, statement id) of the learner's statements that may have reached that destination's LRS."""
    from xapi import builders
    from xapi.outbox import PENDING

    found: set[tuple[str, str]] = set()
    for row in _outbox_rows(session, ref) if rows is None else rows:
        forwarded = row.status != PENDING or row.attempts > 0 or row.lease_token is not None  # sent, or maybe sent
        if row.kind == "lrs" and forwarded and json.loads(row.payload).get("verb", {}).get("id") != builders.AdlVerbs.VOIDED:
            found.add((row.destination, row.item_id))
    return sorted(found)


def erase_outbox(session: Session, ref: SubjectRef) -> int:
    """Delete the learner's rows; queue a ``voided`` statement for every statement that may have reached its LRS."""
    from xapi import builders
    from xapi.outbox import enqueue, outbox_table, utcnow

    rows = _outbox_rows(session, ref)
    voids = _planned_voids(session, ref, rows)
    now = utcnow()
    changed = sum(_count(session.execute(sa.delete(outbox_table).where(outbox_table.c.id.in_(chunk))))
                  for chunk in _in_chunks([r.id for r in rows]))
    for destination, target in voids:
        statement = builders.voided(ERASURE_AGENT, target, statement_id=void_statement_id(target), timestamp=builders.utc_timestamp(now))
        enqueue(session, statement, [destination], now=now)
    return changed


# -- pseudonym links (legacy one-per-LMS name -> per-customer name) ------------------------------


def export_pseudonym_links(session: Session, ref: SubjectRef) -> dict[str, Any]:
    table = _t(session, "privacy_pseudonym_links")
    rows = session.execute(sa.select(table).where(table.c.platform_issuer == ref.issuer, sa.or_(
        table.c.legacy_name.in_(ref.actor_names), table.c.actor_name.in_(ref.actor_names))).order_by(table.c.actor_name))
    return {"links": _dicts(rows)}


def erase_pseudonym_links(session: Session, ref: SubjectRef) -> int:
    table = _t(session, "privacy_pseudonym_links")
    return _count(session.execute(sa.delete(table).where(table.c.platform_issuer == ref.issuer, sa.or_(
        table.c.legacy_name.in_(ref.actor_names), table.c.actor_name.in_(ref.actor_names)))))


@dataclass(frozen=True)
class PseudonymMigration:
    """What ``smeb learner migrate-pseudonyms`` did (counts only)."""

    learners: int  # (issuer, sub) pairs the tool knows
    links: int  # legacy -> per-customer links known after the run
    added: int  # of which new in this run
    split: int  # legacy names that became more than one per-customer name (a person in several companies)


def known_learners(session: Session) -> list[tuple[str, str]]:
    """Every (issuer, sub) the tool holds data of: progress, dashboard, certificates, workshops."""
    regs = _t(session, "lti_registrations")
    found: set[tuple[str, str]] = set()
    for name in ("play_progress", "dashboard_members"):
        table = _t(session, name)
        found |= {(r.issuer, r.subject) for r in session.execute(
            sa.select(regs.c.issuer, table.c.subject).join(regs, regs.c.id == table.c.registration_id).distinct())}
    certs, participants = _t(session, "cert_certificates"), _t(session, "workshop_participants")
    found |= {(r.platform_issuer, r.learner_subject) for r in session.execute(
        sa.select(certs.c.platform_issuer, certs.c.learner_subject).distinct())}
    found |= {(r.issuer, r.subject) for r in session.execute(sa.select(participants.c.issuer, participants.c.subject).distinct())}
    return sorted((i, s) for i, s in found if s != ERASED_SUBJECT)


def migrate_pseudonyms(session: Session, keys: PrivacyKeys, *, now: dt.datetime | None = None) -> PseudonymMigration:
    """Link every known learner's legacy pseudonym to their per-customer ones (idempotent; the caller commits)."""
    from xapi.actors import customer_key, legacy_account_name, opaque_account_name

    table = _t(session, "privacy_pseudonym_links")
    moment = now or dt.datetime.now(dt.UTC)
    existing = {(r.legacy_name, r.actor_name) for r in session.execute(sa.select(table.c.legacy_name, table.c.actor_name))}
    learners = known_learners(session)
    added = 0
    for issuer, subject in learners:
        legacy = legacy_account_name(keys.actor_key, issuer, subject)
        for scope in customer_scopes(session, issuer, subject, bare_deployments=False):
            name = opaque_account_name(customer_key(keys.actor_key, scope), issuer, subject)
            if (legacy, name) in existing:
                continue
            session.execute(sa.insert(table).values(legacy_name=legacy, actor_name=name, platform_issuer=issuer, client_id=scope.client_id,
                                                    deployment_id=scope.deployment_id, context_id=scope.context_id, created_at=moment))
            existing.add((legacy, name))
            added += 1
    per_legacy: dict[str, int] = {}
    for legacy, _name in existing:
        per_legacy[legacy] = per_legacy.get(legacy, 0) + 1
    return PseudonymMigration(len(learners), len(existing), added, sum(1 for n in per_legacy.values() if n > 1))


def pseudonym_links(session: Session, issuer: str | None = None, context_id: str | None = None) -> list[dict[str, Any]]:
    """The links (optionally of one LMS and one course context), for a customer who joins old and new records."""
    table = _t(session, "privacy_pseudonym_links")
    query = sa.select(table).order_by(table.c.platform_issuer, table.c.context_id, table.c.actor_name)
    if issuer is not None:
        query = query.where(table.c.platform_issuer == issuer)
    if context_id is not None:
        query = query.where(table.c.context_id == context_id)
    return _dicts(session.execute(query), drop=("created_at",))


# -- the registry and the two entry points -------------------------------------------------------


@dataclass(frozen=True)
class Store:
    name: str
    export: Callable[[Session, SubjectRef], dict[str, Any]]
    erase: Callable[[Session, SubjectRef], int]


# Order matters for erasure: the LRS first (it looks up the xAPI registrations in the progress rows), the
# certificates last (the outbox finds their statements by certificate id).
STORES: tuple[Store, ...] = (
    Store("lrs", export_lrs, erase_lrs),
    Store("lti_launches", export_launches, erase_launches),
    Store("lti_kv", export_lti_kv, erase_lti_kv),
    Store("play", export_play, erase_play),
    Store("ags_scores", export_ags_scores, erase_ags_scores),
    Store("dashboard", export_dashboard, erase_dashboard),
    Store("journal", export_journal, erase_journal),
    Store("forum", export_forum, erase_forum),
    Store("surveys", export_surveys, erase_surveys),
    Store("workshops", export_workshops, erase_workshops),
    Store("outbox", export_outbox, erase_outbox),
    Store("pseudonym_links", export_pseudonym_links, erase_pseudonym_links),
    Store("certificates", export_certificates, erase_certificates),
)


def export_learner(session: Session, ref: SubjectRef, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything the tool holds about the learner, as one JSON-ready document (read only)."""
    return {
        "format": FORMAT,
        "exported_at": (now or dt.datetime.now(dt.UTC)).isoformat(),
        "learner": {"platform_issuer": ref.issuer, "subject": ref.subject, "xapi_actors": ref.actors},
        "stores": {store.name: store.export(session, ref) for store in STORES},
    }


@dataclass(frozen=True)
class ErasureReceipt:
    """What an erasure did; holds no personal data (no subject, name, or pseudonym)."""

    id: str
    erased_at: dt.datetime
    erased_by: str
    platform_issuer: str
    counts: Mapping[str, int]
    voids_queued: int
    certificates_kept: bool

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "erased_at": self.erased_at.isoformat(), "erased_by": self.erased_by,
                "platform_issuer": self.platform_issuer, "counts": dict(self.counts), "voids_queued": self.voids_queued,
                "certificates_kept": self.certificates_kept}


def erase_learner(
    session: Session, ref: SubjectRef, *, erased_by: str, keep_certificates: bool = False, now: dt.datetime | None = None,
) -> ErasureReceipt:
    """Erase the learner from every store in ``session``'s transaction and record the receipt; the caller commits.

    Args:
        erased_by: who ran it (an operator name or ticket reference; never the learner's data).
        keep_certificates: the learner asked that their certificates stay verifiable: those rows stay as they are.

    Raises:
        ErasureFailed: a store failed; roll the transaction back (``session_scope`` does) and nothing is erased.
    """
    if not erased_by.strip():
        raise PrivacyError("say who erases (--by NAME or a ticket reference): the receipt records it")
    moment = now or dt.datetime.now(dt.UTC)
    counts: dict[str, int] = {}
    voids = len(_planned_voids(session, ref))
    for store in STORES:
        if keep_certificates and store.name == "certificates":
            continue
        try:
            counts[store.name] = store.erase(session, ref)
        except Exception as error:
            raise ErasureFailed(store.name, error) from error
    receipt = ErasureReceipt(str(uuid.uuid4()), moment, erased_by.strip()[:200], ref.issuer, counts, voids, keep_certificates)
    session.execute(sa.insert(receipts).values(
        id=receipt.id, erased_at=moment, erased_by=receipt.erased_by, platform_issuer=ref.issuer,
        counts=json.dumps(counts, sort_keys=True), voids_queued=receipt.voids_queued, certificates_kept=keep_certificates))
    session.flush()
    return receipt


def list_receipts(session: Session) -> list[ErasureReceipt]:
    """Every erasure done, newest first."""
    rows = session.execute(sa.select(receipts).order_by(receipts.c.erased_at.desc()))
    return [ErasureReceipt(r.id, r.erased_at if r.erased_at.tzinfo else r.erased_at.replace(tzinfo=dt.UTC), r.erased_by, r.platform_issuer,
                           json.loads(r.counts), r.voids_queued, r.certificates_kept) for r in rows]
