"""End to end over real HTTP on 127.0.0.1 (``smeb demo``: the tool and the demo LMS): a learner completes the
course, the certificate is issued, its PDF verifies offline and online, its Open Badge verifies with an
independent verifier, and an instructor's dashboard shows it — in real chromium, axe-clean in nb and en at
360 px and 1280 px."""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from smeb_lti.certificates.signing import keyring_from_jwks
from smeb_lti.certificates.verify import read_pdf, verify_pdf
from smeb_lti.demo_lms.client import FormBrowser
from smeb_lti.demo_lms.store import USERS_BY_ID
from tests.smeb_lti.certificates.test_openbadge_independent import independent_verify
from tests.support.demo import LINK, Running, answer_key, keyed_course
from tests.support.node import E2E_JS, require_chromium, run_node

DRIVER = E2E_JS / "drive-dashboard.js"


def _event(browser: FormBrowser, tool_url: str, config: dict[str, Any], type_: str, data: dict[str, Any]) -> httpx.Response:
    body = {"id": str(uuid.uuid4()), "type": type_, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "courseId": config["courseId"], "data": data}
    return browser.client.post(tool_url + config["eventsUrl"], json=body, headers={config["tokenHeader"]: config["token"]})


def _check_certificate(running: Running, pdf_href: str, learner_name: str) -> str:
    """The PDF verifies offline against the published keys, online as valid, and its Open Badge independently."""
    pdf = httpx.get(running.tool_url + pdf_href, timeout=60)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    jwks_document = httpx.get(running.tool_url + "/certificates/keys.json", timeout=10).json()
    verified = verify_pdf(pdf.content, keyring_from_jwks(jwks_document))
    assert verified.claims.learner_name == learner_name and verified.claims.course_title == "Testkurs med alle blokktyper"
    cert_id = verified.claims.certificate_id
    assert verified.verification_url.startswith(f"{running.tool_url}/verify/{cert_id}#")
    status = httpx.get(f"{running.tool_url}/verify/{cert_id}/status.json", timeout=10).json()
    assert status == {"id": cert_id, "status": "valid"}
    online = verify_pdf(pdf.content, keyring_from_jwks(jwks_document), revoked_reason=lambda _id: None)
    assert online.claims == verified.claims and online.checked_revocation and not verified.checked_revocation
    jwt = read_pdf(pdf.content).attachment
    assert jwt
    # The badge names its issuer Profile (issuer.id); an outside verifier takes the key from there (issue 17).
    profile = httpx.get(running.tool_url + "/certificates/issuer", timeout=10).json()
    badge = independent_verify(jwt, profile)
    assert badge["ok"], badge
    assert badge["achievementName"] == "Testkurs med alle blokktyper"
    return cert_id


def test_completing_the_course_over_http_yields_a_certificate_that_verifies_offline_online_and_as_an_open_badge(demo: Running) -> None:
    user = "demo-learner-09"
    with FormBrowser() as browser:
        page = browser.launch(demo.platform_url, LINK, user)
        assert page.status_code == 200 and "/play/" in str(page.url), page.text[:500]
        launch_id = page.url.path.rsplit("/", 1)[-1]
        config = browser.get(str(page.url) + "/smeb-config.json").json()
        assert config["certificateUrl"] == f"/app/{launch_id}/certificate"
        assert 'id="no-certificate"' in browser.get(demo.tool_url + config["certificateUrl"]).text
        course = browser.get(str(page.url) + "/course.json").json()
        for module in course["modules"]:
            for lesson in module["lessons"]:
                for block in lesson["blocks"]:
                    if block["type"] == "quiz":
                        right = answer_key()[block["id"]]
                        assert _event(browser, demo.tool_url, config, "answered", {"blockId": block["id"], "response": right}).status_code == 200
        assert _event(browser, demo.tool_url, config, "outcome", {"completed": True, "passed": True, "progress": 1}).status_code == 200
        mine = browser.get(demo.tool_url + config["certificateUrl"])
        assert mine.status_code == 200
        pdf_href = re.search(r'id="certificate-pdf" href="([^"]+)"', mine.text)
        linkedin = re.search(r'id="certificate-linkedin" href="([^"]+)"', mine.text)
        assert pdf_href and linkedin and linkedin.group(1).startswith("https://www.linkedin.com/profile/add?")
    cert_id = _check_certificate(demo, pdf_href.group(1), USERS_BY_ID[user].name)
    # the instructor's dashboard lists it
    with FormBrowser() as browser:
        staff = browser.launch(demo.platform_url, LINK, "demo-kari")
        dashboard = browser.get(f"{demo.tool_url}/app/{staff.url.path.rsplit('/', 1)[-1]}/dashboard")
        assert dashboard.status_code == 200
        row = dashboard.text.split(f"<h3>{USERS_BY_ID[user].name}</h3>", 1)[1].split("</li>", 1)[0]
        assert "Bestått" in row and cert_id.upper() in row
        # and the learner's own launch may not open it
        assert browser.get(f"{demo.tool_url}/app/{launch_id}/dashboard").status_code == 403


@pytest.mark.browser
def test_in_chromium_the_summary_leads_to_the_certificate_and_the_dashboard_shows_it_axe_clean(demo: Running, tmp_path: Path) -> None:
    require_chromium(axe=True)
    user = "demo-learner-08"
    name = USERS_BY_ID[user].name
    options = {"platformUrl": demo.platform_url, "toolUrl": demo.tool_url, "link": LINK, "learner": user, "learnerName": name,
               "instructor": "demo-kari", "course": keyed_course()}
    result = run_node(DRIVER, options, timeout=540)
    assert result["learnerErrors"] == [], result["learnerErrors"]
    assert result["outcome"]["complete"] is True and result["linkText"] == "Ditt kursbevis"
    assert result["linkedin"].startswith("https://www.linkedin.com/profile/add?")
    # the verification page checked the signed claims in the browser and asked the issuer
    assert result["verification"] == {"signature": "valid", "live": "valid", "learner": name}
    cert_id = _check_certificate(demo, result["pdf"], name)
    assert [(d["lang"], d["width"]) for d in result["dashboards"]] == [("nb", 360), ("nb", 1280), ("en", 360), ("en", 1280)]
    for seen in result["dashboards"]:
        assert seen["status"] == 200 and seen["rowStatus"] == "passed" and seen["certificate"].startswith(cert_id.upper()), seen
        assert seen["charts"] == 2 and not seen["overflowX"] and seen["errors"] == [], seen
    assert len(result["scans"]) == 5
    assert result["violations"] == [], json.dumps(result["violations"], indent=1, ensure_ascii=False)
