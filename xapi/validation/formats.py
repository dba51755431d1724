"""String formats of the data model (IRI, language tag, duration, timestamp, ...) and the supported versions.

Shared by the full jsonschema validator and the compiled fast path, so both judge a string alike."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from functools import lru_cache

from jsonschema import FormatChecker

from xapi.validation.rules import SUPPORTED_VERSIONS

# --------------------------------------------------------------------------- formats
# Best-effort IRI check (Data 2.2 allows best effort): a scheme, no whitespace or characters
# RFC 3987 excludes; http(s) additionally needs an authority, so "http:foo" is caught.
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]+$")
_HTTP_IRI = re.compile(r"^https?://[^/?#\s]+", re.IGNORECASE)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_SHA2 = re.compile(r"^(?:[0-9a-fA-F]{56}|[0-9a-fA-F]{64}|[0-9a-fA-F]{96}|[0-9a-fA-F]{128})$")
_MAILTO = re.compile(r"^mailto:[^\s@]+@[^\s@]+$")
_TOKEN = r"[A-Za-z0-9!#$%&'*+.^_`|~\-]+"
_MIMETYPE = re.compile(rf"^{_TOKEN}/{_TOKEN}(?:\s*;\s*{_TOKEN}=(?:{_TOKEN}|\"[^\"]*\"))*$")
# RFC 5646 section 2.1 ABNF as one expression (langtag | privateuse | grandfathered).
_LANGTAG = re.compile(
    r"^(?:"
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})"  # language (+ extlang)
    r"(?:-[a-z]{4})?"  # script
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"  # variants
    r"(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*"  # extensions
    r"(?:-x(?:-[a-z0-9]{1,8})+)?"  # private use
    r"|x(?:-[a-z0-9]{1,8})+"
    r"|en-gb-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|i-pwn"
    r"|i-tao|i-tay|i-tsu|sgn-be-fr|sgn-be-nl|sgn-ch-de|art-lojban|cel-gaulish|no-bok|no-nyn"
    r"|zh-guoyu|zh-hakka|zh-min|zh-min-nan|zh-xiang"
    r")$",
    re.IGNORECASE,
)
# ISO 8601:2004 4.4.3.2 durations; the alternative format (P0003-00-00...) MUST NOT be used (Data 4.6).
_NUM = r"\d+(?:[.,]\d+)?"
_DURATION = re.compile(
    rf"^P(?:(?P<w>{_NUM})W|(?:(?P<y>{_NUM})Y)?(?:(?P<mo>{_NUM})M)?(?:(?P<d>{_NUM})D)?"
    rf"(?:T(?:(?P<h>{_NUM})H)?(?:(?P<mi>{_NUM})M)?(?:(?P<s>{_NUM})S)?)?)$"
)
# ISO 8601 extended calendar date-time; seconds and fraction optional (reduced precision is ISO 8601).
_TS_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"([Zz]|[+-]\d{2}(?::?\d{2})?)$"
)
_TS_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$")


def is_valid_iri(value: str) -> bool:
    """Best-effort IRI check: scheme, no forbidden characters, authority for http(s)."""
    if not _IRI.match(value):
        return False
    if value[:5].lower() in ("http:", "https"):
        return bool(_HTTP_IRI.match(value))
    return True


def is_valid_language_tag(value: str) -> bool:
    """RFC 5646 well-formedness (token structure, not registry membership)."""
    return bool(_LANGTAG.match(value))


def is_valid_duration(value: str) -> bool:
    """ISO 8601 duration; only the smallest given component may carry a fraction."""
    match = _DURATION.match(value)
    if not match or value in ("P", "PT") or value.endswith("T"):
        return False
    parts = [match.group(name) for name in ("w", "y", "mo", "d", "h", "mi", "s") if match.group(name)]
    if not parts:
        return False
    return not any(("." in part or "," in part) for part in parts[:-1])


def is_valid_timestamp(value: str, version: str = "1.0.3") -> bool:
    """ISO 8601 date-time with zone (1.0.3, SHOULD* taken as MUST) or RFC 3339 (2.0)."""
    return _is_valid_timestamp(value, _model(version) == "2.0")


def _is_valid_timestamp(value: str, strict: bool) -> bool:
    match = (_TS_RFC3339 if strict else _TS_ISO).match(value)
    if not match:
        return False
    year, month, day, hour, minute = (int(match.group(i)) for i in range(1, 6))
    second = int(match.group(6) or 0)
    zone = match.group(8)
    try:
        _dt.date(year, month, day)
    except ValueError:
        return False
    if hour > 23 or minute > 59 or second > 60:  # 60: leap second
        return False
    if zone not in ("Z", "z"):
        zone_hours, zone_minutes = int(zone[1:3]), int(zone[-2:]) if len(zone) > 3 else 0
        if zone_hours > 23 or zone_minutes > 59:
            return False
        # RFC 3339 4.3: "-00:00" means "offset unknown", not a point in time. The ADL 1.0.3 conformance
        # suite rejects it in every spelling (-00, -0000, -00:00, XAPI-00123), and 2.0 forbids it too.
        if zone[0] == "-" and zone_hours == 0 and zone_minutes == 0:
            return False
    return True


def _string_formats(version: str) -> dict[str, Callable[[str], bool]]:
    """Format name -> check of a string; shared by the full validator and the fast path."""
    strict = _model(version) == "2.0"
    version_pattern = _version_pattern(version)
    return {
        "iri": is_valid_iri,
        "uuid": lambda v: bool(_UUID.match(v)),
        "sha1": lambda v: bool(_SHA1.match(v)),
        "sha2": lambda v: bool(_SHA2.match(v)),
        "mailto": lambda v: bool(_MAILTO.match(v)),
        "mimetype": lambda v: bool(_MIMETYPE.match(v)),
        "langtag": is_valid_language_tag,
        "duration": is_valid_duration,
        "timestamp": lambda v: _is_valid_timestamp(v, strict),
        "statement-version": lambda v: bool(version_pattern.match(v)),
    }


def _format_checker(version: str) -> FormatChecker:
    checker = FormatChecker(formats=())
    for name, check in _string_formats(version).items():
        # Formats only judge strings; a wrong type is reported once, by "type".
        checker.checks(name)(lambda instance, _check=check: not isinstance(instance, str) or _check(instance))
    return checker


def _version_pattern(version: str) -> re.Pattern[str]:
    # "1.0" is a valid statement version too: formatted like the version header (Data 2.4.10, XAPI-00101).
    return re.compile(r"^1\.0(?:\.\d+)?$" if _model(version) == "1.0" else r"^(?:1\.0(?:\.\d+)?|2\.0\.\d+)$")


@lru_cache(maxsize=16)
def _model(version: str) -> str:
    # "1.0" alone is what an X-Experience-API-Version header may say (Communication 3.3).
    # Cached: every timestamp check asks (lru_cache does not cache the ValueError, so it stays raised).
    if re.fullmatch(r"1\.0(?:\.\d+)?", version):
        return "1.0"
    if re.fullmatch(r"2\.0(?:\.\d+)?", version):
        return "2.0"
    raise ValueError(f"unsupported xAPI version {version!r}; use one of {', '.join(SUPPORTED_VERSIONS)}")
