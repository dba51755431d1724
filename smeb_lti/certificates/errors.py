"""Certificate errors: one type per thing that can go wrong, each with a short ``reason`` code.

The ``reason`` is what the CLI prints, what ``status.json`` carries and what tests assert on;
the message says what to do about it.
"""

from __future__ import annotations

from smeb_lti.errors import SmebError


class CertificateError(SmebError):
    """Base of every certificate error; a request answers 400 with ``{"error": reason, "message"}``."""

    status = 400
    reason = "certificate-error"


class KeyEncryptionError(CertificateError):
    """The issuer's private key cannot be decrypted or encrypted with ``SMEB_KEY_ENCRYPTION_KEY``."""

    reason = "key-encryption"


class CertificateNotFound(CertificateError):
    """No certificate with this id (in this tenant)."""

    status = 404
    reason = "unknown-certificate"


class AlreadyRevoked(CertificateError):
    """The certificate was revoked before; revoking is done once."""

    reason = "already-revoked"


class InvalidCertificateInput(CertificateError, ValueError):
    """The data to issue a certificate from is incomplete or malformed (the message names the field)."""

    reason = "invalid-input"


class VerificationError(CertificateError):
    """Verification failed; ``reason`` names why, in a word a script can test."""

    reason = "verification-failed"


class MalformedPayload(VerificationError):
    """The signed claims (QR payload / URL fragment) are not ``<base64url claims>.<base64url signature>``."""

    reason = "malformed-payload"


class UnknownKey(VerificationError):
    """The claims were signed with a key id that is not one of the issuer's (current or retired) keys."""

    reason = "unknown-key"


class BadSignature(VerificationError):
    """The Ed25519 signature does not match the claims: forged or altered."""

    reason = "bad-signature"


class TamperedClaim(VerificationError):
    """What the PDF shows differs from what was signed."""

    reason = "tampered-claim"


class IdMismatch(VerificationError):
    """The certificate id in the URL, the metadata or the printed text differs from the signed id."""

    reason = "id-mismatch"


class AttachmentSwapped(VerificationError):
    """The embedded Open Badge credential belongs to another certificate, or is missing or unsigned."""

    reason = "attachment-swapped"


class BadCredential(VerificationError):
    """The embedded Open Badge credential's JWT is invalid (signature, header or content)."""

    reason = "bad-credential"


class NotACertificate(VerificationError):
    """The file is not a PDF certificate of ours (no signed claims in its metadata)."""

    reason = "not-a-certificate"


class Revoked(VerificationError):
    """The signature is fine but the issuer has revoked the certificate (known online only)."""

    reason = "revoked"
