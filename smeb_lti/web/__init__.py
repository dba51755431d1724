"""The web plumbing every part of the tool shares, one implementation each: database sessions of a request
(:mod:`.sessions`), keys derived from ``SECRET_KEY`` (:mod:`.keys`), the CSRF guard (:mod:`.csrf`), security
headers on every response (:mod:`.headers`), request limits (:mod:`.limits`) and page rendering (:mod:`.pages`)."""
