"""Public certificate endpoints (Flask edge).

* ``GET /verify/<id>``            the verification page: checks the fragment's signed claims in
                                  the browser (WebCrypto Ed25519, keys embedded in the page), then
                                  asks ``status.json``. Strict CSP: only our own script and style.
* ``GET /verify/<id>/status.json`` live status: valid / revoked / unknown (no personal data).
* ``GET /certificates/keys.json`` the issuer's public keys (JWKS, active and retired).
* ``GET /certificates/issuer``     the issuer Profile (OB 3.0, JSON-LD) at every credential's
                                  ``issuer.id``: names SMEB AS and lists every verification key.
* ``GET /certificates/status/<n>`` revocation status list ``n`` (Bitstring Status List, a signed
                                  VC-JWT), cacheable for ``SMEB_CERT_STATUS_MAX_AGE`` ≤ 60 s.
* ``GET /certificates/verify.js`` and ``verify.css`` the page's assets.
* ``GET /certificates/<launch_id>/<id>.pdf`` the PDF, for the learner it was issued to (the
  LTI launch proves who is asking).
"""

from __future__ import annotations

import html
import json
from importlib import resources

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy.orm import Session

from smeb_lti import errors
from smeb_lti.certificates import claims as signed
from smeb_lti.certificates.claims import CERT_ID
from smeb_lti.certificates.errors import CertificateError, CertificateNotFound
from smeb_lti.certificates.issue import ISSUER_NAME, owned_by, public_status
from smeb_lti.certificates.model import signing_keys, utcnow
from smeb_lti.certificates.openbadges import issuer_id, issuer_profile, sign_status_list
from smeb_lti.certificates.pdf import format_id, render_pdf
from smeb_lti.certificates.signing import SigningKey, active_key, jwks, public_keys
from smeb_lti.certificates.status import status_list_credential
from smeb_lti.lti import launches
from smeb_lti.settings import settings
from smeb_lti.web import headers
from smeb_lti.web.sessions import sessions

bp = Blueprint("certificates", __name__)

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _secure(response: Response, cache: str = "no-store") -> Response:
    return headers.protect(response, CSP, cache=cache)


def _asset(name: str) -> str:
    return resources.files("smeb_lti.certificates").joinpath(name).read_text("utf-8")


def _public_base() -> str:
    return (settings().public_url or request.url_root).rstrip("/")


def _for_verifiers(response: Response) -> Response:
    # Wallets and verifiers in browsers fetch these cross-origin; they are public and carry no cookies.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _signer(session: Session) -> SigningKey:
    """The active key, decrypted once per process (scrypt on every status request would be a cheap DoS)."""
    import sqlalchemy as sa


    kid = session.execute(
        sa.select(signing_keys.c.kid).where(signing_keys.c.retired_at.is_(None)).order_by(signing_keys.c.created_at.desc()).limit(1)
    ).scalar()
    if kid is None:
        raise CertificateNotFound("the issuer has no active signing key, so no status list is published")
    cache: dict[str, SigningKey] = current_app.extensions.setdefault("smeb.cert_signers", {})
    if kid not in cache:
        cache[kid] = active_key(session, settings().configured_key_encryption_key, create=False)
    return cache[kid]


PAGE = """<!doctype html>
<html lang="nb">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Verifiser kursbevis {cert_id}</title>
<link rel="stylesheet" href="/certificates/verify.css">
<script type="application/json" id="issuer-keys">{keys}</script>
<script src="/certificates/verify.js" defer></script>
</head>
<body data-certificate-id="{cert_id}">
<main>
<h1>Verifisering av kursbevis</h1>
<p>Kursbevis-ID: <strong id="cert-id">{printed_id}</strong></p>
<p class="status" id="signature-status" role="status" data-state="checking">Sjekker signaturen …</p>
<p class="status" id="live-status" role="status" aria-live="polite" data-state="pending">Venter …</p>
<section id="details" hidden>
<h2>Det signerte innholdet</h2>
<dl>
<dt>Navn</dt><dd id="learner"></dd>
<dt>Kurs</dt><dd id="course"></dd>
<dt>Dato</dt><dd id="issued"></dd>
<dt>Varighet</dt><dd id="duration"></dd>
<dt>Utstedt av</dt><dd id="issuer"></dd>
<dt>Kompetanse</dt><dd><ul id="competences"></ul></dd>
</dl>
<p>Sammenlign navnet med legitimasjonen til den som viser beviset.</p>
</section>
<p><button type="button" id="recheck">Sjekk på nytt</button></p>
<noscript>Siden trenger JavaScript for å sjekke signaturen.</noscript>
</main>
</body>
</html>
"""


@bp.get("/verify/<cert_id>")
def verification_page(cert_id: str) -> Response:
    with sessions()() as session:
        keys = jwks(public_keys(session))
    # The keys go into a JSON data block; "<" is escaped so no value can close the element.

    printed = format_id(cert_id) if CERT_ID.match(cert_id) else cert_id  # as printed on the PDF
    body = PAGE.format(cert_id=html.escape(cert_id), printed_id=html.escape(printed), keys=json.dumps(keys).replace("<", "\\u003c"))
    return _secure(Response(body, mimetype="text/html"))


@bp.get("/verify/<cert_id>/status.json")
def status(cert_id: str) -> Response:
    with sessions()() as session:
        found = public_status(session, cert_id)
    if found is None:
        return _secure(Response(json.dumps({"id": cert_id, "status": "unknown"}), status=404, mimetype="application/json"))
    payload: dict[str, object] = {"id": found.id, "status": "revoked" if found.revoked else "valid"}
    if found.revoked and found.revoked_at is not None:
        payload.update(revoked_on=found.revoked_at.date().isoformat(), reason=found.revocation_reason)
    return _secure(Response(json.dumps(payload), mimetype="application/json"))


@bp.get("/certificates/keys.json")
def keys_json() -> Response:
    with sessions()() as session:
        keys = jwks(public_keys(session))
    return _secure(Response(json.dumps(keys, indent=1), mimetype="application/json"), "public, max-age=300")


@bp.get("/certificates/issuer")
def issuer() -> Response:
    with sessions()() as session:
        profile = issuer_profile(_public_base(), public_keys(session), ISSUER_NAME)
    body = json.dumps(profile, indent=1, ensure_ascii=False)
    # Short cache: a verifier must see a key added by rotation soon after the first badge it signs.
    return _for_verifiers(_secure(Response(body, mimetype="application/ld+json"), "public, max-age=60"))


@bp.get("/certificates/status/<int:list_number>")
def status_list(list_number: int) -> Response:
    max_age = settings().cert_status_max_age
    base = _public_base()
    with sessions()() as session:
        credential = status_list_credential(session, base, list_number, issuer_id=issuer_id(base), now=utcnow(), max_age=max_age)
        token = sign_status_list(credential, _signer(session))
    response = Response(token, mimetype="application/vc+jwt")
    return _for_verifiers(_secure(response, f"public, max-age={max_age}"))


@bp.get("/certificates/verify.js")
def verify_js() -> Response:
    return _secure(Response(_asset("verify.js"), mimetype="text/javascript"), "public, max-age=300")


@bp.get("/certificates/verify.css")
def verify_css() -> Response:
    return _secure(Response(_asset("verify.css"), mimetype="text/css"), "public, max-age=300")


@bp.get("/certificates/<launch_id>/<cert_id>.pdf")
def download_pdf(launch_id: str, cert_id: str) -> Response:
    with sessions()() as session:
        launch = launches.get_launch(session, launch_id)
        found = owned_by(session, cert_id, launch.issuer, launch.subject)
    if found is None:
        raise CertificateNotFound(f"no certificate {cert_id!r} for this learner")
    url = signed.verification_url(_public_base(), found.token, found.id)
    pdf = render_pdf(found.claims, found.token, url, found.credential_jwt)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="kursbevis-{found.id}.pdf"'
    return _secure(response, "private, no-store")


def _certificate_error(error: CertificateError) -> Response:
    body = json.dumps({"error": error.reason, "message": str(error)})
    return _secure(Response(body, status=error.status, mimetype="application/json"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    errors.answer_with(app, CertificateError, _certificate_error)
