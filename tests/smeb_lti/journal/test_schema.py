"""The journal's wire format as pure functions: what counts as ciphertext, canonical base64url, sizes."""

from __future__ import annotations

import base64
import random

import pytest

from smeb_lti.journal.errors import JournalInputError
from smeb_lti.journal.schema import b64url_bytes, looks_like_text, parse_keyring


def test_random_bytes_never_look_like_text_and_text_in_any_script_does() -> None:
    # Seeded: at 17 bytes about 1 random string in a million is valid printable UTF-8 (the real client pads
    # entries to 256-byte steps, so its ciphertext is never that short); os.urandom made this test flaky.
    rng = random.Random(20261207)
    assert not any(looks_like_text(rng.randbytes(n)) for n in (17, 64, 300) for _ in range(2000))
    for text in ("Når lot du sist en feil passere?", "MARKØR-7f3a9 hemmelig\nlinje to", "Привет, мир", "{\"title\": \"x\"}" + " " * 200):
        assert looks_like_text(text.encode("utf-8"))


@pytest.mark.parametrize("value", ["AAAA=", "AA+A", "AA/A", "A", "AB", " AAAA", 123, None])
def test_base64url_must_be_canonical_unpadded_and_a_string(value: object) -> None:
    with pytest.raises(JournalInputError) as error:
        b64url_bytes(value, "$.x", 1, 100)
    assert error.value.field == "$.x"


def test_base64url_sizes_are_checked_before_and_after_decoding() -> None:
    assert b64url_bytes(base64.urlsafe_b64encode(b"\xff" * 12).rstrip(b"=").decode(), "$.iv", 12, 12) == b"\xff" * 12
    with pytest.raises(JournalInputError, match=r"12\.\.12 bytes, got 11"):
        b64url_bytes(base64.urlsafe_b64encode(b"\xff" * 11).rstrip(b"=").decode(), "$.iv", 12, 12)
    with pytest.raises(JournalInputError, match="at most 12 bytes"):
        b64url_bytes("A" * 1000, "$.iv", 12, 12)


def test_a_keyring_names_the_first_offending_field() -> None:
    wrapped = {"kdf": {"name": "PBKDF2-SHA256", "iterations": 600_000, "salt": "A" * 22}, "wrappedKey": "A" * 54}
    assert parse_keyring({"version": 0, "passphrase": wrapped, "recovery": {**wrapped, "kdf": {**wrapped["kdf"], "salt": "B" * 21 + "A"}}},
                         first=True).passphrase.kdf.iterations == 600_000
    with pytest.raises(JournalInputError) as error:
        parse_keyring({"version": 0, "passphrase": {**wrapped, "kdf": {**wrapped["kdf"], "iterations": True}}}, first=False)
    assert error.value.field == "$.passphrase.kdf.iterations"
    with pytest.raises(JournalInputError) as error:
        parse_keyring([], first=True)
    assert error.value.field == "$"
