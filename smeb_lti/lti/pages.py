"""What every page of the LTI part shares: its Content-Security-Policy, and comparing a value a page sent back."""

from __future__ import annotations

import secrets

from smeb_lti.web import headers

# The LTI pages' scripts carry launch data (tojson), so they are allowed by this response's nonce, not by a hash; no
# form-action: their forms post to the platform (authorization endpoint, deep-linking return URL). Caching stays with
# each view (the key set is public for five minutes). Everything else may come from the tool only ('self', not
# 'none': the deep-linking test tells a refused frame by any 'none' in the response page's policy).
PAGE_CSP = f"default-src 'self'; script-src {headers.NONCE}; style-src {headers.NONCE}; base-uri 'self'"


def same_text(given: str, expected: str) -> bool:
    """Constant-time comparison; on bytes, because ``compare_digest`` refuses non-ASCII text (a 500 otherwise)."""
    return secrets.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
