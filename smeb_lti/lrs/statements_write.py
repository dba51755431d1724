"""PUT and POST statements (Communication 2.1.1, 2.1.2): parse, validate, check and store a batch."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from typing import Any

import jwt
from cryptography import x509
from flask import Response
from jwt.api_jws import PyJWS
from sqlalchemy.orm import Session

from smeb_lti.lrs import auth, clock, multipart, store, tables
from smeb_lti.lrs import params as P
from smeb_lti.lrs import statements as st
from smeb_lti.lrs.cmi5_rules import enforce
from smeb_lti.lrs.errors import BadRequest, Conflict, Forbidden, InvalidAttachment, InvalidParameter, InvalidStatement
from xapi.errors import StatementValidationError
from xapi.jsonlimits import JsonLimitError
from xapi.validation import loads_strict, normalize_statement, validate_statements


def _parse_statement_body(x: P.XRequest) -> tuple[Any, dict[str, tuple[str, bytes]]]:
    """The JSON statements and the attachment parts keyed by their declared sha2."""
    parts: dict[str, tuple[str, bytes]] = {}
    if x.content_type == "application/json":
        text = x.body
    elif x.content_type == "multipart/mixed":
        try:
            pieces = multipart.parse(x.body, x.header("content-type") or "")
        except multipart.MultipartError as error:
            raise InvalidAttachment(f"{error} (Communication 1.5.2)") from None
        if pieces[0].content_type != "application/json":
            raise InvalidAttachment("the first part of a multipart/mixed statement request must be application/json (Communication 1.5.2)")
        text = pieces[0].body
        for index, part in enumerate(pieces[1:], start=2):
            declared = part.headers.get("x-experience-api-hash")
            if not declared:
                raise InvalidAttachment(f"multipart part {index} lacks the X-Experience-API-Hash header (Communication 1.5.2)")
            if part.headers.get("content-transfer-encoding", "").lower() != "binary":
                raise InvalidAttachment(f"multipart part {index} needs Content-Transfer-Encoding: binary (Communication 1.5.2)")
            algorithm = {64: hashlib.sha256, 96: hashlib.sha384, 128: hashlib.sha512}.get(len(declared))
            if algorithm is None or algorithm(part.body).hexdigest() != declared.lower():
                raise InvalidAttachment(f"multipart part {index}: its data does not hash to X-Experience-API-Hash {declared}")
            parts[declared.lower()] = (part.content_type, part.body)
    else:
        raise BadRequest(
            f"Content-Type {x.content_type or '(none)'!r} is not accepted for statements; send application/json or multipart/mixed"
        )
    try:
        return loads_strict(text, max_depth=x.max_json_depth), parts
    except StatementValidationError as error:
        raise InvalidStatement(str(error)) from None
    except JsonLimitError as error:
        # NaN/Infinity, too deep (SMEB_LRS_MAX_JSON_DEPTH), NUL, lone surrogates, not JSON: nothing is stored.
        raise BadRequest(f"statement body: {error.path}: {error.reason}", path=error.path) from None


def _verify_signature(received: dict[str, Any], data: bytes, index: int) -> None:
    """Signed statements (Data 2.6): decode the JWS, compare payload, check RS* and x5c if present."""
    where = f"statement {index}: signature attachment"
    token = data.decode("ascii", "replace").strip()
    try:
        header = jwt.get_unverified_header(token)
        payload = PyJWS().decode_complete(token, options={"verify_signature": False})["payload"]
        signed = json.loads(payload)
    except (jwt.PyJWTError, ValueError) as error:
        raise InvalidAttachment(f"{where} is not a JWS in compact serialization ({error}) (Data 2.6)") from None
    algorithm = header.get("alg")
    if algorithm not in ("RS256", "RS384", "RS512"):
        raise InvalidAttachment(f"{where} uses alg {algorithm!r}; xAPI requires RS256, RS384 or RS512 (Data 2.6)")
    if not isinstance(signed, dict) or not st.equivalent(signed, received):
        raise InvalidAttachment(f"{where}: the signed payload is not the same statement as the one received (Data 2.6)")
    chain = header.get("x5c")
    if chain:
        try:
            certificate = x509.load_der_x509_certificate(base64.b64decode(chain[0]))
            # Any key type: PyJWT refuses one that does not fit ``alg`` itself, and that refusal is the answer's text.
            key: Any = certificate.public_key()
            PyJWS().decode(token, key=key, algorithms=[algorithm])
        except (jwt.PyJWTError, ValueError, binascii.Error, TypeError) as error:
            raise InvalidAttachment(f"{where} does not verify against its x5c certificate ({error}) (Data 2.6)") from None


def store_statements(session: Session, principal: auth.Principal, x: P.XRequest) -> Response:
    principal.require("statements/write")
    if x.method == "PUT":
        P.check_allowed(x.params, {"statementId"}, "PUT statements")
        statement_id = P.uuid_param(x.params, "statementId")
        if statement_id is None:
            raise InvalidParameter("PUT statements needs the statementId parameter (or POST without it)")
    else:
        P.check_allowed(x.params, set(), "POST statements")
        statement_id = None
    parsed, parts = _parse_statement_body(x)
    if x.method == "PUT":
        if not isinstance(parsed, dict):
            raise BadRequest("PUT statements takes one Statement object; POST an array for a batch")
        if "id" in parsed and str(parsed["id"]).lower() != statement_id:
            raise BadRequest(f"statement id {parsed['id']!r} differs from the statementId parameter {statement_id!r}")
        batch = [dict(parsed, id=statement_id)]
    else:
        batch = parsed if isinstance(parsed, list) else [parsed]
    received = [s for s in batch]
    try:
        validate_statements(received, version=x.version)
    except StatementValidationError as error:
        raise InvalidStatement(
            str(error), issues=[{"path": i.path, "rule": i.rule, "message": i.message} for i in error.issues]
        ) from None
    if principal.actor_ifi is not None:
        for index, statement in enumerate(received):
            if st.agent_ifi(statement.get("actor")) != principal.actor_ifi:
                raise Forbidden(f"statement {index}: a launch token may only send statements about its own learner (actor differs)")
            registration = ((statement.get("context") or {}).get("registration") or "").lower() or None
            if principal.registration and registration != principal.registration:
                raise Forbidden(f"statement {index}: context.registration must be the launch's registration {principal.registration}")

    # Provisional: store.insert_statements assigns the real ``stored`` (and the default timestamp) from
    # the tenant's clock at commit time (X-Experience-API-Consistent-Through).
    stored_us = clock.now_us()
    stored = st.format_timestamp(stored_us)
    prepared: list[store.Prepared] = []
    originals: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    used_parts: dict[str, tuple[str, bytes]] = {}
    for index, original in enumerate(received):
        statement = normalize_statement(original)
        statement["id"] = str(statement.get("id") or uuid.uuid4()).lower()
        if statement["id"] in seen:
            raise BadRequest(f"statement id {statement['id']} occurs twice in one batch (Communication 2.1.2)")
        seen.add(statement["id"])
        originals[statement["id"]] = original
        statement["stored"] = stored
        statement["authority"] = principal.authority
        timestamp_is_stored = "timestamp" not in statement
        if timestamp_is_stored:
            statement["timestamp"] = stored
        statement.setdefault("version", "2.0.0" if x.version.startswith("2.") else "1.0.0")
        for number, attachment in enumerate(statement.get("attachments") or []):
            if len(attachment.get("contentType") or "") > tables.MAX_CONTENT_TYPE:
                raise InvalidAttachment(
                    f"statement {index}: attachments[{number}].contentType is longer than {tables.MAX_CONTENT_TYPE} characters",
                    path=f"$[{index}].attachments[{number}].contentType",
                )
            sha2 = str(attachment.get("sha2", "")).lower()
            if sha2 in parts:
                used_parts[sha2] = (attachment.get("contentType") or parts[sha2][0], parts[sha2][1])
            elif not attachment.get("fileUrl"):
                raise InvalidAttachment(
                    f"statement {index}: attachment sha2 {sha2} has no fileUrl and no multipart part with that X-Experience-API-Hash (Communication 1.5.2)"
                )
            if attachment.get("usageType") == st.SIGNATURE_USAGE:
                if attachment.get("contentType") != "application/octet-stream":
                    raise InvalidAttachment(f"statement {index}: a signature attachment must have contentType application/octet-stream (Data 2.6)")
                if sha2 not in parts:
                    raise InvalidAttachment(f"statement {index}: the signature attachment's JWS must be sent as a multipart part (Data 2.6)")
                _verify_signature(original, parts[sha2][1], index)
        p = store.Prepared(statement, stored_us, st.links(statement), timestamp_is_stored)
        _check_storable(p, original, index if isinstance(parsed, list) else None)
        prepared.append(p)
    unclaimed = sorted(set(parts) - set(used_parts))
    if unclaimed:
        # Communication 1.5.2 (XAPI-00128, 00132): every part after the first is an attachment of a statement in the first.
        raise InvalidAttachment(
            f"multipart part(s) with X-Experience-API-Hash {', '.join(unclaimed)} match no attachment sha2 of the statements; "
            "send only the parts the statements declare"
        )

    # A voiding statement whose target is itself a voiding statement is stored like any other but
    # has no effect: Data 2.3.2 defines a voided statement as one that "is not itself a voiding
    # statement" and gives the LRS no ground to reject the request (the ADL suite, XAPI-00016, POSTs
    # one and expects 200). store.insert_statements never voids a voiding statement.
    existing = store.existing_statements(session, principal.tenant.id, [p.id for p in prepared])
    new: list[store.Prepared] = []
    for p in prepared:
        if p.id in existing:
            if not st.equivalent(existing[p.id]["statement"], originals[p.id]):
                raise Conflict(f"statement id {p.id} is already stored with different content; statements are immutable (Communication 2.1.1)")
            continue
        new.append(p)
    if principal.session_id is not None:
        new.extend(enforce(session, principal, new, stored_us))
    written_us = store.insert_statements(session, principal.tenant.id, new, used_parts, update_definitions=principal.allows("define"))
    if x.method == "PUT":
        response = Response(status=204)
    else:
        response = Response(json.dumps([p.id for p in prepared]), status=200, mimetype="application/json")
    # Once this transaction commits, every statement stored up to ours is visible (clock.advance_clock).
    through = written_us if written_us is not None else clock.consistent_through(session, principal.tenant.id)
    response.headers["X-Experience-API-Consistent-Through"] = st.format_timestamp(through)
    return response


def _check_storable(p: store.Prepared, original: dict[str, Any], index: int | None) -> None:
    """400 for an identifier longer than the store indexes (tables.MAX_INDEXED_BYTES of UTF-8).

    xAPI sets no length for IRIs, but PostgreSQL refuses longer values in the indexed columns (a 500
    after the work was done). A few len() calls per statement; UTF-8 is only measured for long values.
    """
    limit = tables.MAX_INDEXED_BYTES
    values = [value for _, value, _ in p.links]
    values.append(p.statement["verb"]["id"])
    for value in values:
        if len(value) * 4 > limit and len(value.encode("utf-8")) > limit:
            where = _longest_path_within(original, value)
            prefix = f"$[{index}]" if index is not None else "$"
            path = prefix + where[1:]
            raise InvalidStatement(
                f"{path}: longer than the {limit} bytes (UTF-8) this LRS stores for an identifier (IRI, mbox, account)",
                path=path,
            )


def _longest_path_within(statement: dict[str, Any], value: str) -> str:
    """JSONPath of the longest string in ``statement`` that is part of ``value`` (refusal path only)."""
    best, best_len = "$", 0
    stack: list[tuple[Any, str]] = [(statement, "$")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            stack.extend((child, f"{where}.{key}") for key, child in node.items())
        elif isinstance(node, list):
            stack.extend((child, f"{where}[{number}]") for number, child in enumerate(node))
        elif isinstance(node, str) and len(node) > best_len and node in value:
            best, best_len = where, len(node)
    return best
