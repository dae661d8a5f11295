"""The fixed notices a review page can show after a redirect, by code.

A redirect carries ``?msg=<code>``; a page shows the text of a known code and nothing for any
other value, so a link cannot make the UI say something of its own choosing. Errors are never
carried in a URL: the page that fails renders them itself.
"""

from __future__ import annotations

NOTICES = {
    # login page
    "logged-out": "You are logged out.",
    "session-ended": "Your session has ended. Log in again.",
    # record page (the history and the state on the page say the details)
    "deposited": "Approved and deposited.",
    "under-replicated": "Approved and stored, but on fewer storage targets than required (see "
    "the reasons); `archive-ingest replicate` or a re-run completes it.",
    "approved": "Approved; the deposit is postponed (see the reasons) and is retried by "
    "deposit-approved.",
    "rejected": "Rejected; kept in the catalogue, not deposited.",
    "licence": "Licence decision recorded.",
    "edited": "A new version was created from your edit.",
    "ocr-queued": "OCR re-run queued: a new version appears here when it is done.",
    # users page
    "user-added": "User added.",
    "user-disabled": "User disabled; the user's sessions have ended.",
    "user-enabled": "User enabled.",
}


def notice(code: str) -> str:
    """The text of a known code; empty for anything else."""
    return NOTICES.get(code, "")
