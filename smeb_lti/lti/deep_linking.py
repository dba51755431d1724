"""LTI Deep Linking 2.0: an instructor picks a course or one of its modules, and the platform gets signed content items."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, render_template, request
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem

from content.model import Course, Module
from content.view import course_view
from smeb_lti.courses.launched import installed_courses
from smeb_lti.db import session_scope
from smeb_lti.lti import binding, keys, launches, registrations
from smeb_lti.lti.errors import DeepLinkingError, Forbidden
from smeb_lti.lti.pages import PAGE_CSP, same_text
from smeb_lti.lti.services import lti_services
from smeb_lti.lti.tool_conf import ToolRegistration
from smeb_lti.web import headers

bp = Blueprint("lti_deep_link", __name__, template_folder="templates")
headers.policy(bp, PAGE_CSP, cache=None)


def _catalogue() -> list[Course]:
    with lti_services().sessions() as session:
        return [found.course for found in installed_courses(session)]


def _module_points(course: Course, module: Module) -> int:
    """What a link to one module is graded out of: that module's quiz points (:func:`content.view.course_view`)."""
    return course_view(course, module.id).course.max_points


def _deep_link_context(launch_id: str) -> Any:
    services = lti_services()
    with services.sessions() as session:
        context = launches.get_launch(session, launch_id)
    if not context.is_deep_linking:
        raise Forbidden("this launch is not a deep-linking request: add the activity from the LMS's 'select content' button")
    if not context.is_instructor:
        raise Forbidden("only instructors and course designers can choose content")
    binding.require_bound_browser(launch_id)
    return context


def _data_field(settings: Any) -> str:
    data = settings.get("data") if settings else None
    return "" if data is None else data if isinstance(data, str) else json.dumps(data, sort_keys=True)


@bp.get("/deep-link/<launch_id>")
def deep_link_page(launch_id: str) -> Response:
    context = _deep_link_context(launch_id)
    response = Response(
        render_template(
            "lti/deep_link.html",
            context=context,
            lang=context.locale,
            courses=_catalogue(),
            module_points=_module_points,
            data=_data_field(context.deep_linking),
            multiple=str((context.deep_linking or {}).get("accept_multiple", "")).lower() == "true",
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/deep-link/<launch_id>")
def deep_link_response(launch_id: str) -> Response:
    """Sign the ``LtiDeepLinkingResponse`` for the selection and post it back to the platform."""
    services = lti_services()
    context = _deep_link_context(launch_id)
    settings = dict(context.deep_linking or {})
    if not same_text(request.form.get("data", ""), _data_field(settings)):
        raise DeepLinkingError("the deep-linking 'data' value was changed; it must be returned to the platform unchanged")
    selections = request.form.getlist("item")
    if not selections:
        raise DeepLinkingError("choose a course or a module")
    if len(selections) > 1 and str(settings.get("accept_multiple", "")).lower() != "true":
        raise DeepLinkingError("the platform accepts one item here: choose one course or module")
    courses = {c_.slug: c_ for c_ in _catalogue()}
    base = services.public_url(request.url_root)
    items = []
    for selection in selections:
        slug, _, module_id = selection.partition("/")
        course = courses.get(slug)
        if course is None:
            raise DeepLinkingError(f"no installed course {slug!r}")
        title = course.title.get(context.locale)
        points = course.max_points
        custom = {"course": slug}
        resource_id = slug
        if module_id:
            try:
                module = course.module(module_id)
            except KeyError:
                raise DeepLinkingError(f"course {slug!r} has no module {module_id!r}") from None
            title = f"{title}: {module.title.get(context.locale)}"
            points = _module_points(course, module)
            custom["module"] = module_id
            resource_id = f"{slug}/{module_id}"
        # A gradebook column needs scoreMaximum > 0 (AGS §3.2.7); without quizzes the score is completion (1 = done).
        line_item = LineItem().set_score_maximum(points or 1).set_label(title).set_resource_id(resource_id)
        items.append(
            DeepLinkResource().set_title(title).set_url(base + "/lti/launch").set_custom_params(custom).set_lineitem(line_item)
        )
    with session_scope(services.sessions) as session:
        row = registrations.get(session, context.registration_id)
        signing = keys.signing_key(session, services.fernet)
        registration = ToolRegistration(row, signing)
        link = DeepLink(registration, context.deployment_id, settings)  # type: ignore[arg-type]  # pylti1p3 types its registration and launch data narrower than its duck typing
        token = link.get_response_jwt(items)
        launches.end_launch(session, launch_id)
    response = Response(render_template("lti/deep_link_response.html", return_url=settings["deep_link_return_url"], jwt=token))
    response.headers["Cache-Control"] = "no-store"
    return response
