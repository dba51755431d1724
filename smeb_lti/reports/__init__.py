"""Reports over xAPI statements: completion and competence (skills inventory), and their exports.

* :mod:`.aggregate` pure functions: statements in, report rows out (no IO);
* :mod:`.sources` where statements come from: the embedded LRS tables (one LRS tenant) or any
  conformant LRS through :mod:`xapi.delivery.query` (following ``more``, voided statements left out);
* :mod:`.export` CSV (OWASP CSV-injection safe) and ``.xlsx`` (native dates and numbers,
  Norwegian headers, no formulas or URLs from data).
"""

from smeb_lti.reports.aggregate import (
    CompetenceRow,
    CompletionRow,
    ReportParameters,
    competence_report,
    completion_report,
)

__all__ = ["CompetenceRow", "CompletionRow", "ReportParameters", "competence_report", "completion_report"]
