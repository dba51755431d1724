"""Property-based fuzzing of the launch endpoint: hostile id_tokens never cause a 5xx or a half-stored launch.

Two families, each posted after a real login (so the state and the nonce are right and the token
gets as far into validation as its contents allow):

* id_tokens **signed with the registered platform key** whose claims are mutated: removed, or
  replaced by wrong types, huge values, unicode and NUL bytes, deeply nested objects;
* **malformed JWT strings**: random segments, random headers (``alg``, ``kid``, ``jku``, ``crit`` …),
  a valid token with its body swapped.

Properties: no 5xx; a refusal is a 4xx with a non-empty message (JSON asked for, so it can be
read); a refused launch stores no launch row; an accepted one is stored once and its player page
(or catalogue) answers without a 5xx. Fixed budget: derandomized, a fixed number of examples.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.smeb_lti.lti.conftest import CLIENT_ID, Lms, stored_launches
from tests.support.lti_platform import LTI, PlatformKey, PlatformSim

BUDGET = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

CLAIMS = [
    "iss", "aud", "sub", "iat", "exp", "nbf", "nonce", "azp", "name", "given_name", "email", "locale",
    LTI + "message_type", LTI + "version", LTI + "deployment_id", LTI + "target_link_uri", LTI + "resource_link",
    LTI + "roles", LTI + "context", LTI + "custom", LTI + "launch_presentation",
    "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint",
    "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice",
    "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings",
]
NASTY = "\x00\u202e\u200b\ufeffæøåÆØÅ<>\"'&\\/\n\r\t😀\U0010fffd"

nasty_text = st.text(alphabet=st.sampled_from(NASTY) | st.characters(codec="utf-8"), max_size=40)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    nasty_text,
)
json_values = st.recursive(
    scalars, lambda children: st.lists(children, max_size=4) | st.dictionaries(nasty_text, children, max_size=4), max_leaves=12
)
huge = st.builds(lambda n, ch: ch * n, st.sampled_from([5_000, 60_000, 120_000]), st.sampled_from(["x", "æ", "\x00"]))


def _nest(depth: int) -> Any:
    value: Any = "bunn"
    for _ in range(depth):
        value = {"a": [value]}
    return value


nested = st.integers(min_value=10, max_value=400).map(_nest)
mutation = st.tuples(st.sampled_from(CLAIMS), st.one_of(st.just("<delete>"), json_values, huge, nested))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


segment = st.one_of(st.binary(max_size=120).map(_b64), nasty_text, json_values.map(lambda v: _b64(json.dumps(v).encode())))
headers = st.dictionaries(st.sampled_from(["alg", "kid", "typ", "jku", "x5u", "crit", "b64", "zip"]), json_values, max_size=5)


def _launch_once(app: Flask, lms: Lms, make_token: Any) -> None:
    """Login, post the token ``make_token(nonce)`` returns, check the properties."""
    before = stored_launches(app)
    client = app.test_client()
    login = lms.login(client)
    token = make_token(login.nonce)
    response = lms.post_launch(client, login.state, token, follow_repost=False)
    status = response.status_code
    assert status < 500, response.get_data(as_text=True)[:2000]
    if status >= 400:
        if response.is_json:
            body = response.get_json()
            assert isinstance(body.get("message"), str) and body["message"].strip(), body
        else:
            assert response.get_data(as_text=True).strip()
        assert stored_launches(app) == before, "a refused launch left a launch row behind"
        return
    assert status == 303, (status, response.get_data(as_text=True)[:500])
    assert stored_launches(app) == before + 1
    # nothing invalid stored: within the size limit (SMEB_MAX_ID_TOKEN_BYTES) and the lifetime (SMEB_MAX_TOKEN_LIFETIME)
    for raw in _stored_claims(app):
        claims = json.loads(raw)
        assert len(raw.encode("utf-8")) <= 65536 and int(claims["exp"]) <= time.time() + 3600 + 60, raw[:300]
    target = client.get(response.headers["Location"])
    assert target.status_code < 500, target.get_data(as_text=True)[:2000]


@pytest.fixture
def tool_config(tool_config: dict[str, Any]) -> dict[str, Any]:
    """The fuzzer logs in far more often than a person: lift the login rate limits (tested in test_login_limits.py)."""
    return {**tool_config, "SMEB_LOGIN_RATE_PER_ADDRESS": 100_000, "SMEB_LOGIN_RATE_PER_ISSUER": 100_000}


def _stored_claims(app: Flask) -> list[str]:
    from sqlalchemy import select

    from smeb_lti.lti.launches import Launch

    with app.extensions["smeb.sessions"]() as session:
        return list(session.scalars(select(Launch.claims)))


@BUDGET
@given(mutations=st.lists(mutation, min_size=1, max_size=3))
def test_signed_tokens_with_mutated_claims_are_refused_with_a_4xx_or_accepted_whole(
    app: Flask, lms: Lms, platform: PlatformSim, mutations: list[tuple[str, Any]]
) -> None:
    def make(nonce: str) -> str:
        body = platform.claims(client_id=CLIENT_ID, deployment_id="dep-1", nonce=nonce)
        for name, value in mutations:
            if value == "<delete>":
                body.pop(name, None)
            else:
                body[name] = value
        return platform.mint(body)

    _launch_once(app, lms, make)


@BUDGET
@given(parts=st.lists(segment, min_size=1, max_size=5), header=headers, swap=st.booleans())
def test_malformed_jwt_strings_are_refused_with_a_4xx(
    app: Flask, lms: Lms, platform: PlatformSim, parts: list[str], header: dict[str, Any], swap: bool
) -> None:
    def make(nonce: str) -> str:
        if swap:  # a validly signed token whose header or body was replaced
            good = platform.mint(platform.claims(client_id=CLIENT_ID, deployment_id="dep-1", nonce=nonce)).split(".")
            good[0 if header else 1] = _b64(json.dumps(header or {"sub": parts[0]}).encode())
            return ".".join(good)
        return ".".join(parts)

    _launch_once(app, lms, make)


def test_a_token_signed_by_an_unregistered_key_with_huge_claims_is_refused_cheaply(app: Flask, lms: Lms, platform: PlatformSim) -> None:
    """A regression example kept from the fuzzing: 120 KB, unknown kid, exp far ahead."""
    def make(nonce: str) -> str:
        body = platform.claims(client_id=CLIENT_ID, deployment_id="dep-1", nonce=nonce, name="\x00" * 120_000, exp=int(time.time()) + 10**9)
        return platform.mint(body, key=PlatformKey.generate("stranger"))

    started = time.monotonic()
    _launch_once(app, lms, make)
    assert time.monotonic() - started < 5
