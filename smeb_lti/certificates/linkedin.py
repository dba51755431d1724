"""The "Add to LinkedIn profile" link (LinkedIn's documented add-to-profile parameters for certifications)."""

from __future__ import annotations

from urllib.parse import urlencode

from smeb_lti.certificates.issue import IssuedCertificate

ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"


def add_to_profile_url(certificate: IssuedCertificate, public_url: str, organization_name: str = "SMEB AS") -> str:
    """Pre-filled LinkedIn "Add licence or certification" URL.

    ``public_url`` is the verification page *without* the fragment: LinkedIn shows it as a
    link, and the signed claims are for the learner's QR code, not a social network.
    ``organizationName`` is the text form; LinkedIn matches it to the company page itself.
    """
    issued = certificate.claims.issued_on
    params = {
        "startTask": "CERTIFICATION_NAME",
        "name": certificate.claims.course_title,
        "organizationName": organization_name,
        "issueYear": str(issued.year),
        "issueMonth": str(issued.month),
        "certUrl": public_url.split("#", 1)[0],
        "certId": certificate.id,
    }
    return f"{ADD_TO_PROFILE}?{urlencode(params)}"
