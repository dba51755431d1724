"""ADL LRS conformance, statement data (xAPI 1.0.3 Data 2.2-2.6, 4): what the LRS must reject with
400 and what it must accept, one row per requirement of adlnet/xapi-lrs-conformance-requirements.

The rows go through the whole HTTP stack (Flask test client, validation, storage) of one shared
SQLite LRS: validation does not depend on the database engine.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.lrs_server import statement

Edit = Callable[[dict[str, Any]], None]


@pytest.fixture
def lrs(shared_lrs):
    return shared_lrs


def setter(path: str, value: Any) -> Edit:
    """An edit that sets a dotted path (creating objects on the way); ``...`` deletes the key."""

    def edit(s: dict[str, Any]) -> None:
        node: Any = s
        keys = path.split(".")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        if value is ...:
            node.pop(keys[-1], None)
        else:
            node[keys[-1]] = copy.deepcopy(value)

    return edit


AGENT = {"objectType": "Agent", "mbox": "mailto:a@example.com"}
ACT = {"objectType": "Activity", "id": "http://example.com/act"}
SUB = {"objectType": "SubStatement", "actor": AGENT, "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"}, "object": ACT}
ATTACHMENT = {"usageType": "http://example.com/usage", "display": {"en-US": "A"}, "contentType": "text/plain",
              "length": 5, "sha2": "a" * 64, "fileUrl": "http://example.com/file.txt"}

INVALID: list[tuple[str, Edit]] = [
    ("XAPI-00021 duplicate key", lambda s: None),  # replaced by a raw-text test below
    ("XAPI-00022 invalid timestamp", setter("timestamp", "2013-05-18T05:32:34.804+24:00")),
    ("XAPI-00022 timestamp not a date", setter("timestamp", "yesterday")),
    ("XAPI-00024 authority not an agent", setter("authority", {"objectType": "Activity", "id": "http://example.com"})),
    ("XAPI-00025 attachments not an array", setter("attachments", ATTACHMENT)),
    ("XAPI-00027 id not a uuid", setter("id", "not-a-uuid")),
    ("XAPI-00028 id not a string", setter("id", 123)),
    ("XAPI-00029 uuid not in standard form", setter("id", "{" + str(uuid.uuid4()) + "}")),
    ("XAPI-00031 actor objectType", setter("actor.objectType", "Activity")),
    ("XAPI-00032 objectType not a string", setter("actor.objectType", ["Agent"])),
    ("XAPI-00033 name not a string", setter("actor.name", 42)),
    ("XAPI-00034 agent with two ifis", setter("actor.openid", "http://example.com/openid")),
    ("XAPI-00034 agent without ifi", setter("actor", {"objectType": "Agent", "name": "x"})),
    ("XAPI-00035 member outside a group", setter("actor.member", [AGENT])),
    ("XAPI-00036 member not agents", setter("actor", {"objectType": "Group", "member": [{"objectType": "Activity", "id": "http://e.com"}]})),
    ("XAPI-00036 member of groups", setter("actor", {"objectType": "Group", "member": [{"objectType": "Group", "member": [AGENT]}]})),
    ("XAPI-00037 anonymous group without members", setter("actor", {"objectType": "Group", "name": "g"})),
    ("XAPI-00037 group with two ifis", setter("actor", {"objectType": "Group", "mbox": "mailto:g@e.com", "openid": "http://e.com/g"})),
    ("XAPI-00038 mbox without mailto", setter("actor.mbox", "a@example.com")),
    ("XAPI-00039 mbox_sha1sum not a string", setter("actor", {"mbox_sha1sum": 123})),
    ("XAPI-00040 openid not a uri", setter("actor", {"openid": "not a uri"})),
    ("XAPI-00041 account not an object", setter("actor", {"account": "x"})),
    ("XAPI-00042 account homePage not an irl", setter("actor", {"account": {"homePage": "not an irl", "name": "x"}})),
    ("XAPI-00042 account homePage missing", setter("actor", {"account": {"name": "x"}})),
    ("XAPI-00043 account name missing", setter("actor", {"account": {"homePage": "http://e.com"}})),
    ("XAPI-00043 account name not a string", setter("actor", {"account": {"homePage": "http://e.com", "name": 5}})),
    ("XAPI-00044 verb id missing", setter("verb", {"display": {"en-US": "x"}})),
    ("XAPI-00044 verb id not an iri", setter("verb.id", "not an iri")),
    ("XAPI-00045 verb display not a language map", setter("verb.display", {"not a language tag": "x"})),
    ("XAPI-00045 verb display a string", setter("verb.display", "attended")),
    ("XAPI-00046 object objectType", setter("object.objectType", "Thing")),
    ("XAPI-00047 activity id missing", setter("object", {"objectType": "Activity"})),
    ("XAPI-00047 activity id not an iri", setter("object.id", "not an iri")),
    ("XAPI-00048 definition not an object", setter("object.definition", "text")),
    ("XAPI-00049 interactionType unknown", setter("object.definition", {"interactionType": "essay"})),
    ("XAPI-00050 correctResponsesPattern not strings", setter("object.definition", {"interactionType": "choice", "correctResponsesPattern": [1]})),
    ("XAPI-00051 steps not components", setter("object.definition", {"interactionType": "performance", "steps": [{"description": {"en-US": "x"}}]})),
    ("XAPI-00052 target not an array", setter("object.definition", {"interactionType": "matching", "target": {"id": "a"}})),
    ("XAPI-00053 source components not objects", setter("object.definition", {"interactionType": "matching", "source": ["a"]})),
    ("XAPI-00054 scale description not a map", setter("object.definition", {"interactionType": "likert", "scale": [{"id": "a", "description": "x"}]})),
    ("XAPI-00055 choices not an array", setter("object.definition", {"interactionType": "choice", "choices": "a,b"})),
    ("XAPI-00056 name not a language map", setter("object.definition", {"name": "Meeting"})),
    ("XAPI-00057 extensions not an object", setter("object.definition", {"extensions": ["x"]})),
    ("XAPI-00057 extension key not an iri", setter("object.definition", {"extensions": {"not an iri": 1}})),
    ("XAPI-00058 duplicate component ids", setter("object.definition", {"interactionType": "choice", "choices": [{"id": "a"}, {"id": "a"}]})),
    ("XAPI-00059 description not a language map", setter("object.definition", {"description": {"en-US": 5}})),
    ("XAPI-00060 type not an iri", setter("object.definition", {"type": "meeting"})),
    ("XAPI-00061 moreInfo not an irl", setter("object.definition", {"moreInfo": "not an irl"})),
    ("XAPI-00062 component description not a language map", setter("object.definition", {"interactionType": "choice", "choices": [{"id": "a", "description": "A"}]})),
    ("XAPI-00063 component not an object", setter("object.definition", {"interactionType": "choice", "choices": ["a"]})),
    ("XAPI-00064 correctResponsesPattern without interactionType", setter("object.definition", {"correctResponsesPattern": ["a"]})),
    ("XAPI-00065 agent object without objectType", setter("object", {"mbox": "mailto:o@example.com"})),
    ("XAPI-00066 invalid substatement part", setter("object", dict(SUB, verb={"id": "not an iri"}))),
    ("XAPI-00067 substatement with authority", setter("object", dict(SUB, authority=AGENT))),
    ("XAPI-00068 substatement with version", setter("object", dict(SUB, version="1.0.0"))),
    ("XAPI-00069 substatement with stored", setter("object", dict(SUB, stored="2013-05-18T05:32:34.804Z"))),
    ("XAPI-00070 substatement with id", setter("object", dict(SUB, id=str(uuid.uuid4())))),
    ("XAPI-00071 nested substatement", setter("object", dict(SUB, object=SUB))),
    ("XAPI-00072 statementref id not a uuid", setter("object", {"objectType": "StatementRef", "id": "x"})),
    ("XAPI-00072 statementref without id", setter("object", {"objectType": "StatementRef"})),
    ("XAPI-00073 substatement without objectType", setter("object", {k: v for k, v in SUB.items() if k != "objectType"})),
    ("XAPI-00074 success not boolean", setter("result.success", "true")),
    ("XAPI-00075 completion not boolean", setter("result.completion", 1)),
    ("XAPI-00076 response not a string", setter("result.response", 1)),
    ("XAPI-00077 duration not iso 8601", setter("result.duration", "1 hour")),
    ("XAPI-00124 alternative duration format", setter("result.duration", "P0001-02-03T04:05:06")),
    ("XAPI-00078 result extensions not an object", setter("result.extensions", "x")),
    ("XAPI-00079 score not an object", setter("result.score", 0.5)),
    ("XAPI-00080 max below min", setter("result.score", {"min": 10, "max": 5})),
    ("XAPI-00081 min not a number", setter("result.score", {"min": "0"})),
    ("XAPI-00082 raw above max", setter("result.score", {"raw": 11, "min": 0, "max": 10})),
    ("XAPI-00082 raw below min", setter("result.score", {"raw": -1, "min": 0, "max": 10})),
    ("XAPI-00083 scaled above 1", setter("result.score", {"scaled": 1.5})),
    ("XAPI-00083 scaled below -1", setter("result.score", {"scaled": -1.01})),
    ("XAPI-00084 revision with a non-activity object", lambda s: (setter("object", AGENT | {"objectType": "Agent"})(s), setter("context.revision", "1")(s))),
    ("XAPI-00085 platform with a non-activity object", lambda s: (setter("object", AGENT)(s), setter("context.platform", "web")(s))),
    ("XAPI-00086 contextActivities not an object", setter("context.contextActivities", [ACT])),
    ("XAPI-00087 registration not a uuid", setter("context.registration", "not-a-uuid")),
    ("XAPI-00087 instructor not an agent", setter("context.instructor", {"name": "no ifi"})),
    ("XAPI-00088 team not a group", setter("context.team", AGENT)),
    ("XAPI-00089 revision not a string", setter("context.revision", 1)),
    ("XAPI-00090 platform not a string", setter("context.platform", True)),
    ("XAPI-00091 language not rfc 5646", setter("context.language", "not a language")),
    ("XAPI-00092 context statement not a statementref", setter("context.statement", {"objectType": "Activity", "id": "http://e.com"})),
    ("XAPI-00093 contextActivities key unknown", setter("context.contextActivities", {"parents": [ACT]})),
    ("XAPI-00094 contextActivities value not an activity", setter("context.contextActivities", {"parent": [AGENT]})),
    ("XAPI-00095 contextActivities empty", setter("context.contextActivities", {})),
    ("XAPI-00098 authority group of three", setter("authority", {"objectType": "Group", "member": [
        {"mbox": "mailto:1@e.com"}, {"mbox": "mailto:2@e.com"}, {"mbox": "mailto:3@e.com"}]})),
    ("XAPI-00100 authority group of one", setter("authority", {"objectType": "Group", "member": [{"mbox": "mailto:1@e.com"}]})),
    ("XAPI-00101 version 0.9", setter("version", "0.9")),
    ("XAPI-00101 version 1.1.0", setter("version", "1.1.0")),
    ("XAPI-00102 attachment length missing", setter("attachments", [{k: v for k, v in ATTACHMENT.items() if k != "length"}])),
    ("XAPI-00102 attachment length not an integer", setter("attachments", [ATTACHMENT | {"length": "5"}])),
    ("XAPI-00103 attachment sha2 missing", setter("attachments", [{k: v for k, v in ATTACHMENT.items() if k != "sha2"}])),
    ("XAPI-00103 attachment sha2 not a string", setter("attachments", [ATTACHMENT | {"sha2": 5}])),
    ("XAPI-00104 attachment fileUrl not an irl", setter("attachments", [ATTACHMENT | {"fileUrl": "not an irl"}])),
    ("XAPI-00105 attachment contentType missing", setter("attachments", [{k: v for k, v in ATTACHMENT.items() if k != "contentType"}])),
    ("XAPI-00106 attachment display missing", setter("attachments", [{k: v for k, v in ATTACHMENT.items() if k != "display"}])),
    ("XAPI-00106 attachment display not a language map", setter("attachments", [ATTACHMENT | {"display": "A"}])),
    ("XAPI-00107 attachment usageType missing", setter("attachments", [{k: v for k, v in ATTACHMENT.items() if k != "usageType"}])),
    ("XAPI-00107 attachment usageType not an iri", setter("attachments", [ATTACHMENT | {"usageType": "signature"}])),
    ("XAPI-00123 timestamp with -00 offset", setter("timestamp", "2008-09-15T15:53:00.601-00")),
    ("XAPI-00123 timestamp with -0000 offset", setter("timestamp", "2008-09-15T15:53:00.601-0000")),
    ("XAPI-00123 timestamp with -00:00 offset", setter("timestamp", "2008-09-15T15:53:00.601-00:00")),
    ("XAPI-00123 timestamp 01/011/2015", setter("timestamp", "01/011/2015")),
    ("XAPI-00123 substatement timestamp with -00:00 offset", setter("object", dict(SUB, timestamp="2008-09-15T15:53:00.601-00:00"))),
    ("XAPI-00124 duration PA1H0M0S", setter("result.duration", "PA1H0M0S")),
    ("XAPI-00077 duration a number", setter("result.duration", 12345)),
    ("XAPI-00077 substatement duration invalid", setter("object", dict(SUB, result={"duration": "should fail"}))),
    ("XAPI-00001 null actor name", setter("actor.name", None)),
    ("XAPI-00001 null in verb display", setter("verb.display", {"en-US": None})),
    ("XAPI-00001 null registration", setter("context.registration", None)),
    ("XAPI-00001 null moreInfo", setter("object.definition", {"moreInfo": None})),
    ("XAPI-00003 actor missing", setter("actor", ...)),
    ("XAPI-00004 verb missing", setter("verb", ...)),
    ("XAPI-00005 object missing", setter("object", ...)),
    ("XAPI-00006 string where a number is required", setter("result.score", {"max": "100"})),
    ("XAPI-00006 string where a boolean is required", setter("result.completion", "false")),
    ("XAPI-00007 id with too many digits", setter("id", "AA97B177-9383-4934-8543-0F91A7A028368")),
    ("XAPI-00007 id with a non-hex letter", setter("id", "MA97B177-9383-4934-8543-0F91A7A02836")),
    ("XAPI-00007 account name an object", setter("actor", {"account": {"homePage": "http://e.com", "name": {"key": "x"}}})),
    ("XAPI-00007 empty string verb id", setter("verb.id", "")),
    ("XAPI-00008 key case Actor", lambda s: s.update(Actor=s.pop("actor"))),
    ("XAPI-00008 key case veRb", lambda s: s.update(veRb=s.pop("verb"))),
    ("XAPI-00008 key case timeStamp", setter("timeStamp", "2013-05-18T05:32:34.804Z")),
    ("XAPI-00008 key case Version", setter("Version", "1.0.3")),
    ("XAPI-00008 key case attachmentS", setter("attachmentS", [ATTACHMENT])),
    ("XAPI-00009 interactionType case true-faLse", setter("object.definition", {"interactionType": "true-faLse"})),
    ("XAPI-00009 interactionType case Other", setter("object.definition", {"interactionType": "Other"})),
    ("XAPI-00009 objectType case agent", setter("actor.objectType", "agent")),
    ("Data 4.2 verb display language map without entries", setter("verb.display", {})),
    ("Data 4.2 activity name language map without entries", setter("object.definition", {"name": {}})),
    ("Data 4.2 activity description language map without entries", setter("object.definition", {"description": {}})),
    ("Data 4.2 attachment display without entries", setter("attachments", [ATTACHMENT | {"display": {}}])),
    ("Data 4.2 attachment description a string", setter("attachments", [ATTACHMENT | {"description": "should error"}])),
    ("Data 4.2 substatement verb display without entries", setter("object", dict(SUB, verb={"id": "http://e.com/v", "display": {}}))),
    ("XAPI-00121 language map key a12345", setter("verb.display", {"a12345": "should error"})),
    ("XAPI-00121 activity name key a12345", setter("object.definition", {"name": {"a12345": "x"}})),
    ("Data 4.1 result extension key not an iri", setter("result.extensions", {"should fail": True})),
    ("Data 4.1 context extension key not an iri", setter("context.extensions", {"should fail": True})),
    ("Data 4.1 substatement extension key not an iri", setter("object", dict(SUB, result={"extensions": {"should fail": True}}))),
    ("XAPI-00010 unknown top-level property", setter("foo", "bar")),
    ("XAPI-00010 unknown property in result", setter("result.grade", "A")),
    ("XAPI-00011 verb IRI without a scheme", setter("verb.id", "www.example.com/verbs/attended")),
    ("XAPI-00011 activity IRI without a scheme", setter("object.id", "example.com/activity")),
    ("XAPI-00013 language tag with an overlong subtag", setter("verb.display", {"en-USAAAAAAAAAA": "x"})),
    ("XAPI-00118 activity extension key not an iri", setter("object.definition", {"extensions": {"should fail": True}})),
    ("XAPI-00120 extensions an array of pairs", setter("result.extensions", [["http://e.com/k", 1]])),
    ("Data 2.2 null where a value is expected", setter("result.response", None)),
    ("Data 2.4.3 verb missing", setter("verb", ...)),
    ("Data 2.4.2 actor missing", setter("actor", ...)),
    ("Data 2.4.4 object missing", setter("object", ...)),
    ("Data 4.1 extensions in context not an object", setter("context.extensions", 5)),
]
INVALID = [row for row in INVALID if not row[0].startswith("XAPI-00021")]


@pytest.mark.parametrize("rule, edit", INVALID, ids=[row[0] for row in INVALID])
def test_an_invalid_statement_is_rejected_with_400_and_not_stored(lrs, rule, edit):
    s = statement()
    edit(s)
    response = lrs.post_statements(s)
    assert response.status_code == 400, (rule, response.get_json())
    if isinstance(s.get("id"), str) and len(s["id"]) == 36:
        assert lrs.get_statements(statementId=s["id"]).status_code in (400, 404)


VALID: list[tuple[str, Edit]] = [
    ("XAPI-00001 null inside activity extensions", setter("object.definition", {"extensions": {"http://example.com/null": None}})),
    ("XAPI-00001 null inside result extensions", setter("result.extensions", {"http://example.com/null": None})),
    ("XAPI-00001 null inside context extensions", setter("context.extensions", {"http://example.com/null": None})),
    ("XAPI-00001 null inside substatement extensions", setter("object", dict(SUB, result={"extensions": {"http://example.com/null": None}}))),
    ("XAPI-00119 extension values null, empty string, empty object", setter("result.extensions", {"http://e.com/a": None, "http://e.com/b": "", "http://e.com/c": {}})),
    ("Data 4.1 empty extensions", lambda s: (setter("result.extensions", {})(s), setter("context.extensions", {})(s))),
    ("Data 4.1 extension values of every json type", setter("result.extensions", {"http://e.com/b": True, "http://e.com/n": 12345,
                                                                              "http://e.com/o": {"key": "valid"}, "http://e.com/s": "valid"})),
    ("XAPI-00026 id generated when absent", setter("id", ...)),
    ("XAPI-00030 uppercase uuid", lambda s: s.update(id=str(uuid.uuid4()).upper())),
    ("XAPI-00034 mbox_sha1sum agent", setter("actor", {"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"})),
    ("XAPI-00034 account agent", setter("actor", {"account": {"homePage": "http://www.example.com", "name": "xAPI account"}})),
    ("XAPI-00037 identified group with members", setter("actor", {"objectType": "Group", "mbox": "mailto:g@e.com", "member": [AGENT]})),
    ("XAPI-00037 anonymous group", setter("actor", {"objectType": "Group", "member": [AGENT]})),
    ("XAPI-00046 agent object", setter("object", AGENT)),
    ("XAPI-00046 group object", setter("object", {"objectType": "Group", "member": [AGENT]})),
    ("XAPI-00046 substatement object", setter("object", SUB)),
    ("XAPI-00046 statementref object", setter("object", {"objectType": "StatementRef", "id": str(uuid.uuid4())})),
    ("Data 2.4.4.1 activity without objectType", setter("object", {"id": "http://example.com/no-type"})),
    ("XAPI-00049 every interaction type", setter("object.definition", {"interactionType": "true-false", "correctResponsesPattern": ["true"]})),
    ("XAPI-00055 choice components", setter("object.definition", {"interactionType": "choice", "choices": [{"id": "a", "description": {"en-US": "A"}}],
                                                                  "correctResponsesPattern": ["a"]})),
    ("XAPI-00083 scaled at the bounds", setter("result.score", {"scaled": -1, "raw": 0, "min": 0, "max": 1})),
    ("XAPI-00124 durations", setter("result.duration", "P1DT2H3M4.5S")),
    ("XAPI-00077 duration PT16559.14S", setter("result.duration", "PT16559.14S")),
    ("XAPI-00077 duration P3Y1M29DT4H35M59.14S", setter("result.duration", "P3Y1M29DT4H35M59.14S")),
    ("XAPI-00077 duration P4W", setter("result.duration", "P4W")),
    ("XAPI-00123 timestamp with +00:00 offset", setter("timestamp", "2008-09-15T15:53:00.601+00:00")),
    ("XAPI-00096 contextActivities single object", setter("context.contextActivities", {"parent": ACT, "other": [ACT]})),
    ("XAPI-00101 version 1.0", setter("version", "1.0")),
    ("XAPI-00101 version 1.0.9", setter("version", "1.0.9")),
    ("XAPI-00098 authority group of two (OAuth)", setter("authority", {"objectType": "Group", "member": [
        {"account": {"homePage": "http://example.com/xAPI/OAuth/Token", "name": "oauth_consumer_x75db"}}, {"mbox": "mailto:bob@example.com"}]})),
    ("Data 4.2 language map with und and region tags", setter("verb.display", {"und": "x", "zh-Hant-TW": "y", "en-GB": "z"})),
    ("Data 4.5 timestamp with offset and high precision", setter("timestamp", "2013-05-18T05:32:34.80412345+01:00")),
    ("Data 2.4.6 full context", setter("context", {"registration": str(uuid.uuid4()), "instructor": AGENT, "team": {"objectType": "Group", "member": [AGENT]},
                                                  "revision": "1", "platform": "web", "language": "nb-NO",
                                                  "statement": {"objectType": "StatementRef", "id": str(uuid.uuid4())},
                                                  "extensions": {"http://example.com/ext": {"any": ["json", 1, None]}}})),
    ("XAPI-00104 fileUrl attachment", setter("attachments", [ATTACHMENT])),
]


@pytest.mark.parametrize("rule, edit", VALID, ids=[row[0] for row in VALID])
def test_a_valid_statement_is_accepted(lrs, rule, edit):
    s = statement()
    edit(s)
    response = lrs.post_statements(s)
    assert response.status_code == 200, (rule, response.get_json())
    (stored_id,) = response.get_json()
    got = lrs.get_statements(statementId=stored_id).get_json()
    assert got["id"] == stored_id.lower() or got["id"] == stored_id


def test_xapi_00021_a_repeated_key_anywhere_is_rejected(lrs):
    s = statement()
    text = json.dumps(s).replace('"objectType": "Activity"', '"objectType": "Activity", "objectType": "Activity"')
    assert lrs.request("POST", "/statements", data=text, content_type="application/json").status_code == 400


def test_xapi_00096_a_single_context_activity_comes_back_in_an_array(lrs):
    s = statement(context={"contextActivities": {"parent": ACT}})
    lrs.post_statements(s)
    got = lrs.get_statements(statementId=s["id"]).get_json()
    assert got["context"]["contextActivities"]["parent"] == [ACT]


def test_xapi_00099_a_client_authority_is_replaced_by_the_lrs(lrs):
    s = statement(authority={"objectType": "Agent", "mbox": "mailto:boss@example.com"})
    lrs.post_statements(s)
    assert lrs.get_statements(statementId=s["id"]).get_json()["authority"]["account"]["homePage"] == "urn:smeb:lrs:acme"


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_xapi_00097_a_statement_sent_with_stored_is_accepted_and_gets_the_lrs_stored_time(lrs, method):
    s = statement(stored="2011-07-15T00:00:00.000Z")
    if method == "PUT":
        response = lrs.request("PUT", "/statements", params={"statementId": s["id"]}, json_body=s)
    else:
        response = lrs.post_statements(s)
    assert response.status_code in (200, 204)
    assert lrs.get_statements(statementId=s["id"]).get_json()["stored"] != "2011-07-15T00:00:00.000Z"


def test_xapi_00100_an_identified_group_authority_of_two_non_oauth_agents_is_rejected(lrs):
    s = statement(authority={"objectType": "Group", "name": "xAPI Group", "mbox": "mailto:xapigroup@example.com",
                             "member": [{"name": "agentA", "mbox": "mailto:agentA@example.com"},
                                        {"name": "agentB", "mbox": "mailto:agentB@example.com"}]})
    assert lrs.post_statements(s).status_code == 400


def test_merge_definition_trusted_replaces_and_untrusted_only_fills_gaps():
    from smeb_lti.lrs.statements import merge_definition

    old = {"name": {"en-US": "A"}, "type": "http://e.com/t1"}
    new = {"name": {"en-US": "B", "nb-NO": "B-nb"}, "type": "http://e.com/t2", "moreInfo": "http://e.com/m"}
    assert merge_definition(old, new) == {"name": {"en-US": "B", "nb-NO": "B-nb"}, "type": "http://e.com/t2", "moreInfo": "http://e.com/m"}
    assert merge_definition(old, new, trusted=False) == {"name": {"en-US": "A", "nb-NO": "B-nb"}, "type": "http://e.com/t1",
                                                         "moreInfo": "http://e.com/m"}
    assert merge_definition(None, new, trusted=False) == new


def test_xapi_00002_numbers_keep_their_ieee_754_precision(lrs):
    s = statement(result={"score": {"min": 0.12123434, "raw": 12.125, "max": 45.45}})
    lrs.post_statements(s)
    assert lrs.get_statements(statementId=s["id"]).get_json()["result"]["score"] == {"min": 0.12123434, "raw": 12.125, "max": 45.45}


def test_xapi_00122_a_timestamp_with_more_than_millisecond_precision_keeps_at_least_milliseconds(lrs):
    s = statement(timestamp="2013-05-18T05:32:34.80412345Z")
    assert lrs.post_statements(s).status_code == 200
    returned = lrs.get_statements(statementId=s["id"]).get_json()["timestamp"]
    assert returned.startswith("2013-05-18T05:32:34.804")
