"""Public certificate endpoints (Flask edge).

* ``GET /verify/<id>``            the verification page: checks the fragment's signed claims in
                                  the browser (WebCrypto Ed25519, keys embedded in the page), then
                                  asks ``status.json``. Strict CSP: only our own script and style.
* ``GET /verify/<id>/status.json`` live status: valid / revoked / unknown (no personal data).
* ``GET /certificates/keys.json`` the issuer's public keys (JWKS, active and retired).
* ``GET /certificates/verify.js`` and ``verify.css`` the page's assets.
* ``GET /certificates/<launch_id>/<id>.pdf`` the PDF, for the learner it was issued to (the
  LTI launch proves who is asking).
"""

from __future__ import annotations

import html
import json
from importlib import resources

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy.orm import Session, sessionmaker

from smeb_lti.certificates.errors import CertificateError, CertificateNotFound
from smeb_lti.certificates.issue import owned_by, public_status
from smeb_lti.certificates.signing import jwks, public_keys

bp = Blueprint("certificates", __name__)

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _sessions() -> sessionmaker[Session]:
    return current_app.extensions["smeb.sessions"]  # type: ignore[no-any-return]


def _secure(response: Response, cache: str = "no-store") -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = cache
    return response


def _asset(name: str) -> str:
    return resources.files("smeb_lti.certificates").joinpath(name).read_text("utf-8")


def _public_base() -> str:
    return str(current_app.config.get("SMEB_PUBLIC_URL") or request.url_root).rstrip("/")


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
    with _sessions()() as session:
        keys = jwks(public_keys(session))
    # The keys go into a JSON data block; "<" is escaped so no value can close the element.
    from smeb_lti.certificates.claims import CERT_ID
    from smeb_lti.certificates.pdf import format_id

    printed = format_id(cert_id) if CERT_ID.match(cert_id) else cert_id  # as printed on the PDF
    body = PAGE.format(cert_id=html.escape(cert_id), printed_id=html.escape(printed), keys=json.dumps(keys).replace("<", "\\u003c"))
    return _secure(Response(body, mimetype="text/html"))


@bp.get("/verify/<cert_id>/status.json")
def status(cert_id: str) -> Response:
    with _sessions()() as session:
        found = public_status(session, cert_id)
    if found is None:
        return _secure(Response(json.dumps({"id": cert_id, "status": "unknown"}), status=404, mimetype="application/json"))
    payload: dict[str, object] = {"id": found.id, "status": "revoked" if found.revoked else "valid"}
    if found.revoked and found.revoked_at is not None:
        payload.update(revoked_on=found.revoked_at.date().isoformat(), reason=found.revocation_reason)
    return _secure(Response(json.dumps(payload), mimetype="application/json"))


@bp.get("/certificates/keys.json")
def keys_json() -> Response:
    with _sessions()() as session:
        keys = jwks(public_keys(session))
    return _secure(Response(json.dumps(keys, indent=1), mimetype="application/json"), "public, max-age=300")


@bp.get("/certificates/verify.js")
def verify_js() -> Response:
    return _secure(Response(_asset("verify.js"), mimetype="text/javascript"), "public, max-age=300")


@bp.get("/certificates/verify.css")
def verify_css() -> Response:
    return _secure(Response(_asset("verify.css"), mimetype="text/css"), "public, max-age=300")


@bp.get("/certificates/<launch_id>/<cert_id>.pdf")
def download_pdf(launch_id: str, cert_id: str) -> Response:
    from smeb_lti.certificates import claims as signed
    from smeb_lti.certificates.pdf import render_pdf
    from smeb_lti.lti import launches

    with _sessions()() as session:
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
    status_code = 404 if isinstance(error, CertificateNotFound) else 400
    body = json.dumps({"error": error.reason, "message": str(error)})
    return _secure(Response(body, status=status_code, mimetype="application/json"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_error_handler(CertificateError, _certificate_error)
