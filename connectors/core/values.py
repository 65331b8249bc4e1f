"""Reading a field's value by what it says, not by its JSON type.

Both CRMs document their flags as JSON booleans, but proxies, middleware and older API
paths send ``"false"`` as a string, and Python's truth test reads any non-empty string as
true: one such answer would mark every lead and activity deleted while the sync exits 0.
A flag is therefore read by its value, and a value that is no flag at all stops the sync
with one line naming the record, rather than being guessed.
"""

from __future__ import annotations

from typing import Any

from connectors.core.errors import RecordError

TRUE_TEXTS = frozenset({"true", "1", "yes"})
FALSE_TEXTS = frozenset({"false", "0", "no", ""})


def read_flag(value: Any, where: str) -> bool:
    """``True``/``False`` for a JSON boolean, ``"true"``/``"false"`` (any case), 1/0 or
    missing (``None`` is false); anything else is a :class:`RecordError` naming ``where``
    (e.g. ``HubSpot contacts record 101 field archived``)."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in TRUE_TEXTS:
            return True
        if text in FALSE_TEXTS:
            return False
    raise RecordError(
        f"{where} is {str(value)[:40]!r}, which is neither true nor false; correct the record "
        "in the CRM (or report it if the CRM shows it fine) and run the sync again"
    )
