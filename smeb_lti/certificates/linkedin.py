"""The "Add to LinkedIn profile" link (LinkedIn's documented add-to-profile parameters for certifications)."""

from __future__ import annotations

from urllib.parse import urlencode

from smeb_lti.certificates.issue import IssuedCertificate

ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"


def add_to_profile_url(certificate: IssuedCertificate, verification_url: str, organization_name: str = "SMEB AS") -> str:
    """Pre-filled LinkedIn "Add licence or certification" URL whose ``certUrl`` is the verification URL.

    ``certUrl`` is the whole verification URL, signed claims (``#…``) included: an employer who
    follows "Show credential" on the learner's profile lands on ``/verify/<id>``, where the page
    checks the signature in the browser and asks the issuer whether the certificate is revoked.
    Without the claims the page could only say "revoked or not", not *whose* certificate it is.
    The claims hold what the learner is publishing on LinkedIn anyway (name, course, date, issuer);
    the learner decides by adding it. ``urlencode`` turns ``#`` into ``%23``, so the claims travel
    inside the parameter and LinkedIn stores the link whole.
    ``organizationName`` is the text form; LinkedIn matches it to the company page itself.
    """
    issued = certificate.claims.issued_on
    params = {
        "startTask": "CERTIFICATION_NAME",
        "name": certificate.claims.course_title,
        "organizationName": organization_name,
        "issueYear": str(issued.year),
        "issueMonth": str(issued.month),
        "certUrl": verification_url,
        "certId": certificate.id,
    }
    return f"{ADD_TO_PROFILE}?{urlencode(params)}"
