"""The one error model: every part's errors are SmebErrors, answered by one handler in the part's declared format."""

from __future__ import annotations

import pytest
from flask import Blueprint, Flask, Response, jsonify

from smeb_lti import errors
from smeb_lti.certificates.errors import CertificateError, CertificateNotFound
from smeb_lti.courses.launched import CourseNotInstalled
from smeb_lti.dashboard.errors import DashboardError
from smeb_lti.demo_lms.errors import PlatformError
from smeb_lti.errors import SmebError
from smeb_lti.forum.store import ForumError
from smeb_lti.journal.errors import JournalError
from smeb_lti.lrs.errors import LrsError
from smeb_lti.lti.errors import LtiError
from smeb_lti.play.errors import PlayError
from smeb_lti.privacy.errors import PrivacyError
from smeb_lti.settings import SettingsError
from smeb_lti.surveys.errors import AppError
from smeb_lti.usage.store import UsageError


@pytest.mark.parametrize("root", [CertificateError, CourseNotInstalled, DashboardError, PlatformError, ForumError, JournalError,
                                  LrsError, LtiError, PlayError, PrivacyError, SettingsError, AppError, UsageError])
def test_every_part_roots_its_errors_in_the_one_base(root: type[Exception]) -> None:
    assert issubclass(root, SmebError)


def test_an_error_carries_status_both_messages_and_its_spec() -> None:
    class Refused(SmebError):
        status = 403
        default = "not for you"
        default_nb = "ikke for deg"
        spec = "LTI 1.3 Core 5.1.1"

    error = Refused()
    assert (error.status, error.message_en, error.message_nb, error.spec, str(error)) == (403, "not for you", "ikke for deg", "LTI 1.3 Core 5.1.1", "not for you")
    specific = Refused("only staff", message_nb="bare for ansatte")
    assert (specific.message, specific.message_nb) == ("only staff", "bare for ansatte")
    assert SmebError("plain").message_nb == "plain"  # no translation: the English message
    assert LrsError.spec and CertificateNotFound("x").status == 404 and CertificateError("x").status == 400


class Teapot(SmebError):
    status = 418
    default = "I'm a teapot"
    default_nb = "Jeg er en tekanne"


class Kettle(Teapot):
    status = 409


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__, template_folder="../../smeb_lti/templates")
    errors.init_app(app)
    api = Blueprint("api", __name__)

    @api.get("/api/boil")
    def boil() -> Response:
        raise Kettle("the kettle is busy")

    @app.get("/tea")
    def tea() -> Response:
        raise Teapot()

    @app.get("/kettle")
    def kettle() -> Response:
        raise Kettle("busy")

    app.register_blueprint(api)
    return app


def test_without_a_declaration_people_get_the_error_page_and_api_clients_json(app: Flask) -> None:
    page = app.test_client().get("/tea")
    assert page.status_code == 418 and page.mimetype == "text/html" and page.headers["Cache-Control"] == "no-store"
    assert "Jeg er en tekanne" in page.text and "I&#39;m a teapot" in page.text and "Forespørselen kan ikke behandles" in page.text
    data = app.test_client().get("/tea", headers={"Accept": "application/json"})
    assert data.status_code == 418 and data.json == {"error": "Teapot", "message": "I'm a teapot"}


def test_the_most_specific_declaration_wins_and_a_blueprints_before_the_apps(app: Flask) -> None:
    errors.answer_with(app, Teapot, lambda e: Response(f"app:{e.message}", status=e.status))
    errors.answer_with(app, Kettle, lambda e: jsonify(api=e.message), blueprint="api")
    client = app.test_client()
    assert (client.get("/tea").text, client.get("/kettle").text) == ("app:I'm a teapot", "app:busy")
    answer = client.get("/api/boil")
    assert answer.json == {"api": "the kettle is busy"}
