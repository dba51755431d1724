"""The revocation status list (W3C Bitstring Status List v1.0): encoding, positions, the max-age setting."""

from __future__ import annotations

import base64
import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smeb_lti.certificates.status import (
    LIST_SIZE,
    encode_list,
    position,
    status_entry,
)
from smeb_lti.settings import Settings, SettingsError


def _bits(encoded: str) -> bytes:
    assert encoded.startswith("u")
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.sets(st.integers(min_value=0, max_value=LIST_SIZE - 1), max_size=40))
def test_exactly_the_revoked_positions_are_set_left_most_bit_first(positions: set[int]) -> None:
    bits = _bits(encode_list(positions))
    assert len(bits) * 8 == LIST_SIZE  # the spec's 16 KiB minimum: the list does not tell how many badges exist
    found = {i for i in range(LIST_SIZE) if bits[i // 8] & (0x80 >> (i % 8))}
    assert found == positions


def test_an_empty_list_encodes_stably_and_an_out_of_range_position_is_refused() -> None:
    assert encode_list([]) == encode_list([])  # gzip mtime fixed: same bits, same bytes
    with pytest.raises(ValueError):
        encode_list([LIST_SIZE])


def test_a_global_index_maps_to_its_list_and_position() -> None:
    assert position(5) == (1, 5)
    assert position(LIST_SIZE + 3) == (2, 3)
    entry = status_entry("https://kurs.smeb.example/", LIST_SIZE + 3)
    assert entry == {
        "id": "https://kurs.smeb.example/certificates/status/2#3",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "3",
        "statusListCredential": "https://kurs.smeb.example/certificates/status/2",
    }


@pytest.mark.parametrize("value, expected", [("", 30), (None, 30), ("0", 0), ("60", 60), (" 45 ", 45)])
def test_the_max_age_setting_defaults_to_30_and_accepts_0_to_60(value, expected, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SMEB_CERT_STATUS_MAX_AGE", raising=False)
    assert Settings.from_env({}, {"SMEB_CERT_STATUS_MAX_AGE": value}).cert_status_max_age == expected


@pytest.mark.parametrize("value", ["61", "-1", "3600", "1m", "abc"])
def test_the_max_age_setting_refuses_more_than_a_minute_naming_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match="SMEB_CERT_STATUS_MAX_AGE"):
        Settings.from_env({"SMEB_CERT_STATUS_MAX_AGE": value})


def test_issued_certificates_get_distinct_positions(migrated_db_url: str) -> None:
    from sqlalchemy.orm import sessionmaker

    from smeb_lti.certificates.issue import issue_certificate
    from smeb_lti.db import make_engine, session_scope
    from tests.smeb_lti.certificates.test_issue_and_revoke import request

    engine = make_engine(migrated_db_url)
    try:
        sessions = sessionmaker(engine, expire_on_commit=False)
        indexes = set()
        for n in range(12):
            with session_scope(sessions) as session:
                issued = issue_certificate(session, request(subject=f"user-{n}"), base_url="https://kurs.smeb.example")
            import jwt

            indexes.add(jwt.decode(issued.credential_jwt, options={"verify_signature": False})["credentialStatus"]["statusListIndex"])
        assert len(indexes) == 12
    finally:
        engine.dispose()
