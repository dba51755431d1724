"""The "Add to LinkedIn profile" link carries LinkedIn's certification parameters."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

from smeb_lti.certificates.issue import IssuedCertificate
from smeb_lti.certificates.linkedin import add_to_profile_url
from tests.smeb_lti.certificates.conftest import TENANT


def test_the_linkedin_url_prefills_the_certification_and_carries_the_whole_verification_url(made) -> None:
    cert = IssuedCertificate(made.claims.certificate_id, TENANT, made.claims, made.token, made.url, made.credential_jwt, None,
                             dt.datetime(2026, 11, 21, tzinfo=dt.UTC))
    url = add_to_profile_url(cert, made.url)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert params == {
        "startTask": "CERTIFICATION_NAME",
        "name": "Fra stille feil til smart kvalitet",
        "organizationName": "SMEB AS",
        "issueYear": "2026",
        "issueMonth": "11",
        "certUrl": made.url,  # /verify/<id>#<signed claims>: the page can show whose certificate it is
        "certId": made.claims.certificate_id,
    }
    assert "#" not in url  # the claims travel inside certUrl (%23), not as a fragment of LinkedIn's link
    assert made.url.startswith("https://kurs.smeb.example/verify/") and "#" in made.url
