"""The keys and tokens derived from SECRET_KEY are byte for byte the values the tool derived before
:mod:`smeb_lti.web.keys` existed (stored answer tokens, pseudonyms and cookies must stay valid): each formula
below is the one a part used to write by hand."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from flask import Flask

from smeb_lti.web import keys
from smeb_lti.web.csrf import Csrf

SECRET = "k" * 40
LAUNCH = "AbC-123_xyz"


@pytest.fixture()
def app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    return app


def _hmac(key: bytes, message: bytes) -> hmac.HMAC:
    return hmac.new(key, message, hashlib.sha256)


def test_derived_keys_are_the_hmac_of_the_purpose(app: Flask) -> None:
    with app.app_context():
        for label in ("smeb-xapi-actor-key", "smeb-lrs-launch-token-key", "smeb-survey-answer-token", "smeb-app-csrf"):
            assert keys.derive_key(label) == _hmac(SECRET.encode(), label.encode()).digest()
    assert keys.derive_key("smeb-lrs-launch-token-key", secret=SECRET.encode()) == _hmac(SECRET.encode(), b"smeb-lrs-launch-token-key").digest()


def test_launch_bound_values_keep_their_historic_shape(app: Flask) -> None:
    secret = SECRET.encode()
    with app.app_context():
        for purpose in ("smeb-journal", "smeb-forum", "smeb-dashboard-csrf", "smeb-staff-binding", "smeb-play-events"):
            expected = _hmac(secret, purpose.encode() + b"\x00" + LAUNCH.encode("ascii")).hexdigest()
            assert keys.launch_bound(purpose, LAUNCH).hex() == expected
        session = _hmac(secret, b"smeb-xapi-session\x00" + LAUNCH.encode()).digest()
        assert keys.launch_bound("smeb-xapi-session", LAUNCH) == session


def test_signing_uses_the_purposes_own_key(app: Flask) -> None:
    with app.app_context():
        survey_key = _hmac(SECRET.encode(), b"smeb-app-csrf").digest()
        assert keys.sign("smeb-app-csrf", LAUNCH) == _hmac(survey_key, LAUNCH.encode("ascii")).hexdigest()
        message = b"\x00".join([b"https://lms", b"sub-1", b"survey", b"3"])
        answer_key = _hmac(SECRET.encode(), b"smeb-survey-answer-token").digest()
        assert keys.sign("smeb-survey-answer-token", message) == _hmac(answer_key, message).hexdigest()


def test_no_secret_key_is_an_error_naming_it() -> None:
    with Flask(__name__).app_context(), pytest.raises(RuntimeError, match="SECRET_KEY"):
        keys.derive_key("x")


def test_tokens_compare_as_bytes_so_any_text_is_a_refusal_not_an_error() -> None:
    token = "ab" * 32
    assert keys.same_token(token, token)
    assert not keys.same_token("", token)
    assert not keys.same_token("æøå\ud800", token)


def test_csrf_reads_the_form_field_then_the_header(app: Flask) -> None:
    guard = Csrf("smeb-app-csrf", header="X-SMEB-CSRF", purpose_key=True)
    header_only = Csrf("smeb-journal", form_field=None, header="X-SMEB-Journal-Token")
    with app.app_context():
        token, journal_token = guard.token(LAUNCH), header_only.token(LAUNCH)
    with app.test_request_context(method="POST", data={"csrf": token}):
        assert guard.valid(LAUNCH) and not guard.valid("other")
    with app.test_request_context(method="POST", headers={"X-SMEB-CSRF": token}):
        assert guard.valid(LAUNCH)
    with app.test_request_context(method="POST", data={"csrf": journal_token}):
        assert not header_only.valid(LAUNCH)  # the journal reads its header only
    with app.test_request_context(method="POST", headers={"X-SMEB-Journal-Token": journal_token}):
        assert header_only.valid(LAUNCH)
