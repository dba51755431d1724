"""LTI 1.3 claim names, one place (LTI Core 1.3, Deep Linking 2.0, AGS 2.0, NRPS 2.0)."""

from __future__ import annotations

# https://www.imsglobal.org/spec/lti/v1p3/#required-message-claims
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
VERSION = LTI + "version"
DEPLOYMENT_ID = LTI + "deployment_id"
TARGET_LINK_URI = LTI + "target_link_uri"
RESOURCE_LINK = LTI + "resource_link"
ROLES = LTI + "roles"
# https://www.imsglobal.org/spec/lti/v1p3/#optional-message-claims
CONTEXT = LTI + "context"
CUSTOM = LTI + "custom"
LAUNCH_PRESENTATION = LTI + "launch_presentation"
TOOL_PLATFORM = LTI + "tool_platform"
# https://www.imsglobal.org/spec/lti-ags/v2p0/#assignment-and-grade-service-claim
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
# https://www.imsglobal.org/spec/lti-nrps/v2p0#lti-1-3-integration
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
# https://www.imsglobal.org/spec/lti-dl/v2p0#deep-linking-request-message
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
DL_CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
DL_MSG = "https://purl.imsglobal.org/spec/lti-dl/claim/msg"

LTI_VERSION = "1.3.0"
RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
SUPPORTED_MESSAGE_TYPES = (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST)

# https://www.imsglobal.org/spec/lti-ags/v2p0/#scopes
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
TOOL_SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE, SCOPE_NRPS)

# https://www.imsglobal.org/spec/lti/v1p3/#role-vocabularies
ROLE_CONTEXT = "http://purl.imsglobal.org/vocab/lis/v2/membership"
ROLE_INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person"
ROLE_SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person"
