"""One-page A4 certificate PDF, rendered with WeasyPrint.

Why WeasyPrint rather than reportlab: it writes *tagged* PDF (``pdf_variant="pdf/ua-1"``:
structure tree, ``/Lang``, title in the window bar) so screen readers read the certificate
in order, it shapes text with HarfBuzz (Vietnamese stacked diacritics, "Đorđe Šćepanović"),
and it attaches files and custom metadata natively. It renders a page in ~0.1-0.3 s here
(see benchmarks/bench_reports.py), which is fine for certificates issued one at a time.

The font is DejaVu Sans shipped in ``fonts/`` (licence beside it), embedded as a subset:
nothing depends on the fonts installed where the PDF is made or read.

What a verifier finds in the file (see :mod:`verify`):

* the document info entries ``/smebclaims`` (the signed token) and ``/smebverificationurl``;
* the attachment ``openbadge-credential.jwt`` (the OB 3.0 credential as VC-JWT);
* a QR code (PNG image) with the verification URL, claims in the fragment;
* the printed text: name, course, date, id.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from importlib import resources

import segno
from weasyprint import HTML, Attachment

from smeb_lti.certificates.claims import CertificateClaims
from smeb_lti.certificates.openbadges import ATTACHMENT_NAME

MONTHS_NB = ("januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober", "november", "desember")
META_TOKEN = "smeb-claims"  # becomes /smebclaims in the PDF info dictionary
META_URL = "smeb-verification-url"  # becomes /smebverificationurl


def date_nb(day: dt.date) -> str:
    return f"{day.day}. {MONTHS_NB[day.month - 1]} {day.year}"


def duration_nb(minutes: int | None) -> str | None:
    if minutes is None:
        return None
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} minutter"
    return f"{hours} t {rest} min" if rest else (f"{hours} time" if hours == 1 else f"{hours} timer")


def format_id(certificate_id: str) -> str:
    """The id as printed: upper case in groups of four (easy to read out on the phone)."""
    upper = certificate_id.upper()
    return "-".join(upper[i : i + 4] for i in range(0, len(upper), 4))


def qr_png(url: str) -> bytes:
    """The QR code as PNG (error correction M, 4 px modules, quiet zone 4)."""
    import io

    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=4, border=4)
    return out.getvalue()


def _font_url(name: str) -> str:
    return resources.files("smeb_lti.certificates").joinpath("fonts", name).as_uri()  # type: ignore[attr-defined]  # an installed package's files are a pathlib.Path, typed as Traversable


def certificate_html(claims: CertificateClaims, token: str, url: str, qr: bytes) -> str:
    e = html.escape
    duration = duration_nb(claims.duration_minutes)
    tags = "".join(f"<li>{e(tag)}</li>" for tag in claims.competences)
    issuer_line = e(claims.issuer) + (f" i samarbeid med {e(claims.organization)}" if claims.organization else "")
    rows = [("Kurs", e(claims.course_title)), ("Dato", e(date_nb(claims.issued_on)))]
    if duration:
        rows.append(("Varighet", e(duration)))
    rows.append(("Utstedt av", issuer_line))
    table = "".join(f"<tr><th scope='row'>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f"""<!doctype html>
<html lang="nb">
<head>
<meta charset="utf-8">
<title>Kursbevis – {e(claims.course_title)} – {e(claims.learner_name)}</title>
<meta name="author" content="{e(claims.issuer)}">
<meta name="description" content="Kursbevis {e(claims.certificate_id)}">
<meta name="keywords" content="{e(', '.join(claims.competences))}">
<meta name="{META_TOKEN}" content="{e(token)}">
<meta name="{META_URL}" content="{e(url)}">
<style>
@font-face {{ font-family: "SMEB Sans"; src: url("{_font_url('DejaVuSans.ttf')}"); font-weight: normal; }}
@font-face {{ font-family: "SMEB Sans"; src: url("{_font_url('DejaVuSans-Bold.ttf')}"); font-weight: bold; }}
@page {{ size: A4; margin: 22mm 20mm; }}
html {{ font-family: "SMEB Sans"; font-size: 11pt; color: #1d2733; }}
header {{ border-bottom: 2pt solid #0b5e7d; padding-bottom: 4mm; }}
header p {{ margin: 0; font-size: 10pt; letter-spacing: 0.08em; text-transform: uppercase; color: #0b5e7d; }}
h1 {{ font-size: 30pt; margin: 14mm 0 2mm; }}
.lead {{ font-size: 12pt; margin: 0 0 6mm; }}
.name {{ font-size: 24pt; font-weight: bold; margin: 0 0 10mm; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 8mm; }}
th {{ text-align: left; width: 32mm; font-weight: bold; padding: 2mm 0; vertical-align: top; }}
td {{ padding: 2mm 0; }}
h2 {{ font-size: 12pt; margin: 6mm 0 2mm; }}
ul {{ margin: 0; padding-left: 6mm; }}
footer {{ position: absolute; bottom: 0; left: 0; right: 0; border-top: 1pt solid #9aa7b3; padding-top: 4mm; font-size: 9pt; }}
footer img {{ float: right; width: 38mm; height: 38mm; margin-left: 6mm; }}
.id {{ font-weight: bold; font-size: 11pt; }}
</style>
</head>
<body>
<header><p>{e(claims.issuer)} · Kursbevis / Certificate of completion</p></header>
<main>
<h1>Kursbevis</h1>
<p class="lead">Dette bekrefter at</p>
<p class="name">{e(claims.learner_name)}</p>
<table>{table}</table>
{f'<h2>Kompetanse</h2><ul>{tags}</ul>' if tags else ''}
</main>
<footer>
<img src="data:image/png;base64,{base64.b64encode(qr).decode()}" alt="QR-kode som lenker til verifisering av kursbeviset">
<p>Kursbevis-ID: <span class="id">{e(format_id(claims.certificate_id))}</span></p>
<p>Ekte? Skann QR-koden eller gå til {e(url.split('#', 1)[0])}. Siden sjekker den digitale signaturen i nettleseren din
og viser om beviset er trukket tilbake.</p>
<p>Vedlagt: digitalt kursbevis (Open Badges 3.0, {ATTACHMENT_NAME}).</p>
</footer>
</body>
</html>"""


def render_pdf(claims: CertificateClaims, token: str, url: str, credential_jwt: str) -> bytes:
    """The certificate PDF (tagged PDF/UA-1, embedded subset font, credential attached)."""
    document = HTML(string=certificate_html(claims, token, url, qr_png(url)))
    attachment = Attachment(
        string=credential_jwt,
        name=ATTACHMENT_NAME,
        description="Open Badges 3.0 OpenBadgeCredential (VC-JWT, EdDSA)",
    )
    return document.write_pdf(attachments=[attachment], pdf_variant="pdf/ua-1", custom_metadata=True)
