"""From an LMS issuer and ``sub`` to the learner's :class:`SubjectRef`: every pseudonym our stores know them by."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.identity import actor_key
from smeb_lti.privacy.errors import UnknownLearner
from smeb_lti.privacy.rows import reflected
from smeb_lti.privacy.subject import SURVEY_TOKEN_LABEL, PrivacyKeys, SubjectRef
from smeb_lti.web.keys import derive_key
from xapi.actors import customer_key, legacy_account_name, opaque_account_name
from xapi.customers import CustomerScope


def keys_from_app(app: Any) -> PrivacyKeys:
    """The keys the running tool uses (``SMEB_XAPI_ACTOR_KEY`` or derived from ``SECRET_KEY``)."""
    with app.app_context():
        return PrivacyKeys(actor_key=actor_key(), secret_key=str(app.config["SECRET_KEY"]))


def customer_scopes(session: Session, issuer: str, subject: str, *, bare_deployments: bool = True) -> list[Any]:
    """Every customer (:class:`xapi.customers.CustomerScope`) the learner may have a pseudonym in.

    The companies the tool saw the learner in: the dashboard's members (every player launch records
    one), certificates, workshop participations and stored launches; and (``bare_deployments``) each
    deployment of the issuer without a context, for launches that had none.
    """

    regs, deps = reflected(session, "lti_registrations"), reflected(session, "lti_deployments")
    clients = dict(session.execute(sa.select(regs.c.id, regs.c.client_id).where(regs.c.issuer == issuer)).all())
    by_deployment: dict[str, set[int]] = {}
    for registration_id, deployment_id in session.execute(
            sa.select(deps.c.registration_id, deps.c.deployment_id).where(deps.c.registration_id.in_(list(clients) or [-1]))):
        by_deployment.setdefault(deployment_id, set()).add(registration_id)
    found: set[tuple[int, str, str | None]] = {(r, d, None) for d, regs_ in by_deployment.items() for r in regs_} if bare_deployments else set()
    members = reflected(session, "dashboard_members")
    found |= set(tuple(r) for r in session.execute(sa.select(members.c.registration_id, members.c.deployment_id, members.c.context_id).where(
        members.c.registration_id.in_(list(clients) or [-1]), members.c.subject == subject)).all())
    participants, companies = reflected(session, "workshop_participants"), reflected(session, "workshop_companies")
    found |= set(tuple(r) for r in session.execute(sa.select(companies.c.registration_id, companies.c.deployment_id, companies.c.context_id)
                                 .join(participants, participants.c.company_id == companies.c.id)
                                 .where(participants.c.issuer == issuer, participants.c.subject == subject)).all())
    certs = reflected(session, "cert_certificates")
    for deployment_id, context_id in session.execute(sa.select(certs.c.deployment_id, certs.c.context_id).where(
            certs.c.platform_issuer == issuer, certs.c.learner_subject == subject)).all():
        found |= {(r, deployment_id, context_id) for r in by_deployment.get(deployment_id, ())}
    launches = reflected(session, "lti_launches")
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
    names = [opaque_account_name(customer_key(keys.actor_key, scope), issuer, subject) for scope in scopes]
    names.append(legacy_account_name(keys.actor_key, issuer, subject))
    return tuple(dict.fromkeys(names))


def resolve_subject(session: Session, issuer: str, subject: str, keys: PrivacyKeys) -> SubjectRef:
    """The :class:`SubjectRef` of ``subject`` at ``issuer``; :class:`UnknownLearner` for an unknown issuer."""
    if not issuer or not subject:
        raise UnknownLearner("both --issuer and --subject are needed (the LTI 'iss' and 'sub' of the learner)")
    regs = reflected(session, "lti_registrations")
    ids = tuple(session.scalars(sa.select(regs.c.id).where(regs.c.issuer == issuer).order_by(regs.c.id)))
    if not ids:
        raise UnknownLearner(f"no platform is registered with issuer {issuer!r}: check it with `smeb platform list`")
    survey_key = derive_key(SURVEY_TOKEN_LABEL, secret=keys.secret_key)
    names = pseudonyms_of(keys, issuer, subject, customer_scopes(session, issuer, subject))
    return SubjectRef(issuer, subject, names, ids, survey_key)
