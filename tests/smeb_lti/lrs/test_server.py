"""The reusable real-HTTP fixture (tests/support/lrs_server.py): serving a package folder and a cmi5 launch end to end."""

from __future__ import annotations

import json
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx

from smeb_lti.lrs import cmi5

ACTOR = {"objectType": "Agent", "account": {"homePage": "https://smeb.no", "name": "kari-7"}}


def test_a_served_package_is_launched_over_http_with_a_one_time_token(lrs_server, tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><title>AU</title>", encoding="utf-8")
    package = lrs_server.serve_folder(tmp_path)
    url = lrs_server.create_cmi5_launch(ACTOR, "https://smeb.no/cmi5/au/1", package + "index.html", mastery_score=0.7)
    with httpx.Client(timeout=30) as client:
        page = client.get(url)
        assert page.status_code == 200 and "<title>AU</title>" in page.text
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert query["endpoint"] == lrs_server.endpoint
        token = client.post(query["fetch"]).json()["auth-token"]
        assert client.post(query["fetch"]).json()["error-code"] == "1"
        headers = {"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3"}
        state = client.get(query["endpoint"] + "activities/state", headers=headers, params={
            "activityId": query["activityId"], "agent": query["actor"], "registration": query["registration"], "stateId": "LMS.LaunchData"})
        assert state.status_code == 200
        context = state.json()["contextTemplate"]
        context["registration"] = query["registration"]
        context["contextActivities"]["category"] = [{"id": cmi5.CATEGORY_CMI5}]
        initialized = {"id": str(uuid.uuid4()), "actor": json.loads(query["actor"]), "verb": {"id": cmi5.VERB_INITIALIZED},
                       "object": {"id": query["activityId"]}, "context": context}
        assert client.post(query["endpoint"] + "statements", json=initialized, headers=headers).status_code == 200
        again = client.post(query["endpoint"] + "statements", json=dict(initialized, id=str(uuid.uuid4())), headers=headers)
        assert again.status_code == 403 and again.json()["requirement"] == "9.3.2-2"


def test_cors_allows_content_from_another_origin(lrs_server):
    with httpx.Client(timeout=30) as client:
        response = client.options(lrs_server.endpoint + "statements", headers={
            "Origin": "http://127.0.0.1:1", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-experience-api-version"})
        assert response.status_code == 204
        assert response.headers["access-control-allow-origin"] == "http://127.0.0.1:1"


def test_the_same_statement_posted_concurrently_is_stored_once_and_every_post_succeeds(lrs_server):
    from concurrent.futures import ThreadPoolExecutor

    statement = {"id": str(uuid.uuid4()), "actor": {"mbox": "mailto:race@example.com"},
                 "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"}, "object": {"id": "https://smeb.no/race"}}
    headers = {"Authorization": lrs_server.auth_header, "X-Experience-API-Version": "1.0.3"}

    def post(_: int) -> int:
        with httpx.Client(timeout=60) as client:
            return client.post(lrs_server.endpoint + "statements", json=statement, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(post, range(6)))
    assert statuses == [200] * 6
    with httpx.Client(timeout=60) as client:
        found = client.get(lrs_server.endpoint + "statements", headers=headers,
                           params={"agent": json.dumps({"mbox": "mailto:race@example.com"})}).json()["statements"]
    assert [s["id"] for s in found] == [statement["id"]]
