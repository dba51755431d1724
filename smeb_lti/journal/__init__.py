"""The zero-knowledge reflection journal (docs/journal.md).

Entries are encrypted in the learner's browser (WebCrypto AES-GCM-256 with a random data key, wrapped
with AES-KW by PBKDF2-SHA256 keys from the passphrase and from a printed recovery code); the server
stores only ciphertext, IVs, salts, KDF parameters and wrapped keys, and refuses anything else.
"""

from __future__ import annotations

from flask import Flask

from smeb_lti.journal import privacy as part_privacy
from smeb_lti.journal import routes
from smeb_lti.privacy import registry as privacy_registry


def init_app(app: Flask) -> None:
    privacy_registry.register(*part_privacy.STORES)

    routes.init_app(app)
