"""The one exception report writers raise for a user's mistake (not for bugs)."""

from __future__ import annotations


class ReportError(Exception):
    """A report cannot be written as asked; the message is one sentence that says the fix.

    The command line prints it on one line and exits 2; anything else raised by the writers
    is a bug and stays a traceback.
    """
