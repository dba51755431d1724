"""A learner's dashboard memberships and teams."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.privacy.registry import Store
from smeb_lti.privacy.rows import as_dicts, learner_rows, rowcount
from smeb_lti.privacy.subject import SubjectRef


def export_dashboard(session: Session, ref: SubjectRef) -> dict[str, Any]:
    members, mine = learner_rows(session, ref, "dashboard_members")
    teams, mine_teams = learner_rows(session, ref, "dashboard_teams")
    return {
        "memberships": as_dicts(session.execute(sa.select(members).where(mine).order_by(members.c.id))),
        "teams": as_dicts(session.execute(sa.select(teams).where(mine_teams))),
    }


def erase_dashboard(session: Session, ref: SubjectRef) -> int:
    members, mine = learner_rows(session, ref, "dashboard_members")
    teams, mine_teams = learner_rows(session, ref, "dashboard_teams")
    return rowcount(session.execute(sa.delete(members).where(mine))) + rowcount(session.execute(sa.delete(teams).where(mine_teams)))


STORES = (Store("dashboard", export_dashboard, erase_dashboard),)
