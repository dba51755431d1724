"""A learner's data, exported and erased across every store of the tool (GDPR articles 15, 17 and 20).

A learner is named by the LTI platform's issuer and ``sub``; :func:`smeb_lti.privacy.learners.resolve_subject`
turns that into a :class:`~smeb_lti.privacy.subject.SubjectRef` that also knows the learner's pseudonymous xAPI
accounts (``xapi.actors``: one per customer — platform, deployment, LMS context — the learner was seen in, plus
the id of the earlier one-per-LMS scheme so records made before the change are found too), the platform
registrations of that issuer and the key of the survey de-duplication tokens.

Each part of the tool that holds learner data has a ``privacy.py`` with one small pair of functions,
``export(session, ref) -> dict`` and ``erase(session, ref) -> int`` (rows changed), and adds them to
:mod:`smeb_lti.privacy.registry` from its ``init_app``. :mod:`smeb_lti.privacy.erasure` gathers one JSON
document (:func:`~smeb_lti.privacy.erasure.export_learner`) or runs every eraser in the caller's ONE transaction
and writes an :class:`~smeb_lti.privacy.erasure.ErasureReceipt` (what, how many, when, by whom — no personal
data); any failure rolls the whole erasure back.

Tables are named as the migrations define them (reflected, :func:`smeb_lti.privacy.rows.reflected`, not imported
from the owning modules), so the exports depend on the schema, which only changes through migrations.

Not erasure: voiding. Statements already forwarded to a customer's LRS are voided there (a ``voided`` statement
per forwarded statement, queued in the outbox by :mod:`smeb_lti.privacy.outbox`), but a voided statement stays
in that LRS; the customer erases it there (docs/privacy.md).

This package's ``__init__`` stays empty: every part imports :mod:`~smeb_lti.privacy.registry`, and importing the
package must not pull in any part."""
