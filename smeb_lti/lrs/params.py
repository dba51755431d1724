"""The xAPI request as the resources see it, after the alternate request syntax is unfolded.

Communication 1.3: a POST with ``?method=PUT`` and a form body carries headers, parameters
and ``content`` as form fields. :func:`from_flask` turns both syntaxes into one
:class:`XRequest`; the resources never look at Flask's request directly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from smeb_lti.lrs import statements as st
from smeb_lti.lrs.errors import BadRequest, InvalidParameter, PayloadTooLarge
from xapi.jsonlimits import DEFAULT_MAX_DEPTH

SUPPORTED = {"1.0": "1.0.3", "2.0": "2.0.0"}
_VERSION_RE = re.compile(r"^(1\.0|2\.0)(\.\d+)?$")
# Form fields of the alternate syntax that stand for headers (Communication 1.3).
_HEADER_FIELDS = {"authorization", "x-experience-api-version", "content-type", "content-length", "if-match", "if-none-match"}


@dataclass
class XRequest:
    method: str
    params: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    alternate: bool = False
    version: str = "1.0.3"
    max_json_depth: int = DEFAULT_MAX_DEPTH  # SMEB_LRS_MAX_JSON_DEPTH: for bodies and JSON parameters (agent=)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def _single(pairs: list[tuple[str, str]], where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in pairs:
        if name in out:
            raise InvalidParameter(f"parameter {name!r} is given more than once in the {where}")
        out[name] = value
    return out


_NUL = "\x00"


def refuse_nul(pairs: Mapping[str, str], what: str) -> None:
    """400 naming the parameter/header: U+0000 cannot be stored (PostgreSQL text) nor sensibly matched.

    Without this a NUL in ``?activity=`` reached PostgreSQL, whose driver refused the query: a 500
    "could not reach its database". One C-speed search per value on the hot path.
    """
    for name, value in pairs.items():
        if _NUL in name or _NUL in value:
            shown = name.replace(_NUL, "\\0")
            raise InvalidParameter(
                f"{what} {shown!r} contains a NUL character (U+0000), which this LRS cannot store or match; remove it",
                **{what: shown},
            )


def from_flask(
    method: str, query_string: bytes, headers: Mapping[str, str], body: bytes, max_body: int, max_json_depth: int = DEFAULT_MAX_DEPTH
) -> XRequest:
    """Build the XRequest, unfolding the alternate request syntax and checking size, version and NULs."""
    if len(body) > max_body:
        raise PayloadTooLarge(f"request body is {len(body)} bytes; this LRS accepts at most {max_body} (SMEB_LRS_MAX_BODY)")
    try:
        query = _single(parse_qsl(query_string.decode("utf-8"), keep_blank_values=True, strict_parsing=False), "query string")
    except UnicodeDecodeError:
        raise InvalidParameter("query string is not UTF-8") from None
    refuse_nul(query, "parameter")
    refuse_nul(headers, "header")
    lowered = {k.lower(): v for k, v in headers.items()}
    request = XRequest(method=method, params=query, headers=lowered, body=body)
    if "method" in query:
        if method != "POST":
            raise InvalidParameter("the alternate request syntax (?method=...) must be sent with POST (Communication 1.3)")
        intended = query.pop("method").upper()
        if intended not in ("GET", "PUT", "POST", "DELETE", "HEAD"):
            raise InvalidParameter(f"method={intended!r} is not an xAPI method")
        if query:
            raise InvalidParameter(
                f"with ?method=, every other parameter goes in the form body, not the query string: {sorted(query)} (Communication 1.3)"
            )
        if request.content_type != "application/x-www-form-urlencoded":
            raise BadRequest("the alternate request syntax needs Content-Type: application/x-www-form-urlencoded (Communication 1.3)")
        try:
            form = _single(parse_qsl(body.decode("utf-8"), keep_blank_values=True), "form body")
        except UnicodeDecodeError:
            raise BadRequest("alternate-syntax form body is not UTF-8") from None
        refuse_nul({name: value for name, value in form.items() if name != "content"}, "parameter")
        params: dict[str, str] = {}
        new_headers = {k: v for k, v in lowered.items() if k not in ("content-type", "content-length")}
        content = b""
        for name, value in form.items():
            if name == "content":
                content = value.encode("utf-8")
            elif name.lower() in _HEADER_FIELDS:
                header = name.lower()
                # Content-Type and Content-Length of the real request describe the form itself; the
                # form fields describe "content", so they always take over (Communication 1.3).
                if header not in ("content-type", "content-length") and header in lowered and lowered[header].strip() != value.strip():
                    # The form stands in for a header the client could not set; when the client did set
                    # it too, with another value, the request is ambiguous (ADL suite, Communication 1.3.s3.b7).
                    # Credentials are not echoed back: error bodies end up in client and proxy logs.
                    shown = ("", "") if header == "authorization" else (f" ({value!r})", f" ({lowered[header]!r})")
                    raise BadRequest(
                        f"the {name} form field{shown[0]} disagrees with the {name} header{shown[1]}; "
                        "send it once, or with the same value both ways (Communication 1.3)"
                    )
                new_headers[header] = value
            else:
                params[name] = value
        if content and "content-type" not in new_headers:
            new_headers["content-type"] = "application/json"
        request = XRequest(method=intended, params=params, headers=new_headers, body=content, alternate=True)
    request.max_json_depth = max_json_depth
    request.version = negotiate_version(request.header("x-experience-api-version"))
    if request.alternate and request.version.startswith("2."):
        raise BadRequest("xAPI 2.0.0 removed the alternate request syntax (?method=); send a normal request")
    return request


def negotiate_version(header: str | None) -> str:
    """Accept 1.0, 1.0.x and 2.0.x (Communication 3.3); answer with the latest patch of that line."""
    if header is None or not header.strip():
        raise BadRequest("missing X-Experience-API-Version header; send 1.0.3 or 2.0.0 (Communication 3.3)")
    match = _VERSION_RE.match(header.strip())
    if not match:
        raise BadRequest(f"unsupported X-Experience-API-Version {header!r}; this LRS accepts 1.0.x and 2.0.x")
    return SUPPORTED[match.group(1)]


def check_allowed(params: Mapping[str, str], allowed: set[str], resource: str) -> None:
    """400 for any parameter the spec does not define here (including wrong-case spellings)."""
    unknown = sorted(set(params) - allowed)
    if unknown:
        hints = []
        for name in unknown:
            same = [a for a in allowed if a.lower() == name.lower()]
            hints.append(f"{name!r}" + (f" (did you mean {same[0]!r}? parameter names are case-sensitive)" if same else ""))
        raise InvalidParameter(f"unknown parameter(s) for {resource}: {', '.join(hints)}; allowed: {sorted(allowed)}")


def boolean(params: Mapping[str, str], name: str, default: bool = False) -> bool:
    value = params.get(name)
    if value is None:
        return default
    if value not in ("true", "false"):
        raise InvalidParameter(f"parameter {name!r} must be true or false, got {value!r}")
    return value == "true"


def uuid_param(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not st.UUID_RE.match(value):
        raise InvalidParameter(f"parameter {name!r} must be a UUID, got {value!r}")
    return value.lower()


def timestamp_param(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        return st.parse_timestamp(value)
    except ValueError as error:
        raise InvalidParameter(f"parameter {name!r}: {error}") from None


def agent_param(
    params: Mapping[str, str], name: str = "agent", required: bool = False, max_depth: int = DEFAULT_MAX_DEPTH
) -> dict[str, Any] | None:
    value = params.get(name)
    if value is None:
        if required:
            raise InvalidParameter(f"parameter {name!r} is required (a JSON Agent object)")
        return None
    try:
        return st.parse_agent_param(value, name, max_depth=max_depth)
    except ValueError as error:
        raise InvalidParameter(str(error)) from None


def required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise InvalidParameter(f"parameter {name!r} is required")
    return value


def iri_param(params: Mapping[str, str], name: str, is_required: bool = False) -> str | None:
    value = params.get(name)
    if value is None:
        if is_required:
            raise InvalidParameter(f"parameter {name!r} is required (an IRI)")
        return None
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:\S", value):
        raise InvalidParameter(f"parameter {name!r} must be an absolute IRI such as https://example.com/x, got {value!r}")
    return value
