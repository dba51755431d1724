"""Values derived per launch under the tool's secret: the player's event token and its xAPI session id."""

from __future__ import annotations

import uuid

from smeb_lti.web.keys import launch_bound


def launch_token(launch_id: str) -> str:
    """The token the player sends with events: only a page rendered for this launch knows it."""
    return launch_bound("smeb-play-events", launch_id).hex()


def player_session_id(launch_id: str) -> str:
    """The player session of a launch as the profile's ``session-id`` (docs/xapi-profile.md): one per LTI launch.

    Derived under the tool's secret rather than the launch id itself, which opens ``/play/<launch_id>``
    and must not reach LRS readers. Stable for the launch, so a replayed event rebuilds the same bytes.
    """
    return str(uuid.UUID(bytes=launch_bound("smeb-xapi-session", launch_id)[:16], version=4))
