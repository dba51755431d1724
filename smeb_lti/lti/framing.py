"""The LTI part's answer to the web kernel's ``PlatformDirectory``: which LMS may frame which page.

``smeb_lti.web.headers`` builds each page's ``frame-ancestors`` from the registered platforms and from the
platform of the page's launch; those live in the LTI tables, which the kernel may not import.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from smeb_lti.lti.launches import Launch
from smeb_lti.lti.registrations import PlatformRegistration


class LtiPlatforms:
    """Reads the platforms and launches for ``smeb_lti.web.headers.FrameOrigins``."""

    def platforms(self, session: Session) -> Iterable[tuple[int, str, str]]:
        rows = session.execute(select(PlatformRegistration.id, PlatformRegistration.issuer, PlatformRegistration.auth_login_url))
        return [(registration_id, issuer, login_url) for registration_id, issuer, login_url in rows]

    def registration_of(self, session: Session, launch_id: str) -> int | None:
        return session.scalar(select(Launch.registration_id).where(Launch.launch_id == launch_id))


PLATFORMS = LtiPlatforms()
