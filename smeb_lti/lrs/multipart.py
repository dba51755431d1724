"""``multipart/mixed`` for statements with attachments (Communication 1.5.2): parse and build.

Written by hand rather than with the ``email`` package because attachment parts are raw
binary (Content-Transfer-Encoding: binary) and must come back byte-for-byte for hashing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass


class MultipartError(ValueError):
    """The body is not the multipart/mixed the spec describes; the message says how."""


@dataclass(frozen=True)
class Part:
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "application/octet-stream").split(";")[0].strip().lower()


def boundary_of(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "boundary":
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            if value:
                return value
    raise MultipartError("multipart/mixed Content-Type needs a boundary parameter")


def parse(body: bytes, content_type: str) -> list[Part]:
    """Split a multipart/mixed body into parts (RFC 2046), tolerant of LF-only line ends."""
    delimiter = b"--" + boundary_of(content_type).encode("latin-1")
    pieces = body.split(delimiter)
    if len(pieces) < 3:
        raise MultipartError("multipart/mixed body has no parts delimited by its boundary")
    parts: list[Part] = []
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            break  # close delimiter
        if piece.startswith(b"\r\n"):
            piece = piece[2:]
        elif piece.startswith(b"\n"):
            piece = piece[1:]
        if piece.endswith(b"\r\n"):
            piece = piece[:-2]
        elif piece.endswith(b"\n"):
            piece = piece[:-1]
        head, sep, content = piece.partition(b"\r\n\r\n")
        if not sep:
            head, sep, content = piece.partition(b"\n\n")
        if not sep:
            if piece.startswith((b"\r\n", b"\n")):
                head, content = b"", piece.lstrip(b"\r\n")
            else:
                raise MultipartError("a multipart part has no blank line between its headers and its body")
        headers: dict[str, str] = {}
        for line in head.decode("latin-1").splitlines():
            if not line.strip():
                continue
            name, colon, value = line.partition(":")
            if not colon:
                raise MultipartError(f"malformed part header line {line!r}")
            headers[name.strip().lower()] = value.strip()
        parts.append(Part(headers, content))
    else:
        raise MultipartError("multipart/mixed body lacks its closing boundary")
    if not parts:
        raise MultipartError("multipart/mixed body has no parts")
    return parts


def build(first_json: bytes, attachments: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart/mixed body: the JSON part, then (sha2, content type, data) parts. Returns (body, content type)."""
    boundary = "smeb-" + secrets.token_hex(12)
    out = [b"--" + boundary.encode() + b"\r\nContent-Type: application/json\r\n\r\n" + first_json + b"\r\n"]
    for sha2, content_type, data in attachments:
        out.append(
            b"--"
            + boundary.encode()
            + f"\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {sha2}\r\n\r\n".encode("latin-1")
            + data
            + b"\r\n"
        )
    out.append(b"--" + boundary.encode() + b"--\r\n")
    return b"".join(out), f"multipart/mixed; boundary={boundary}"
