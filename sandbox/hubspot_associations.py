"""How the HubSpot sandbox pages associations, as HubSpot documents it.

Two reads return association lists, and both cut long ones short:

* **Embedded in a v3 object read** (``GET /crm/v3/objects/{type}?associations=contacts``
  and the single-record read): since 18 January 2021 at most :data:`EMBEDDED_PAGE` (100)
  associated ids per target type, with ``paging.next.after`` and a ``link`` to
  ``/crm/v3/objects/{type}/{id}/associations/{toType}?after=…`` for the rest (HubSpot's
  announcement "Announcing a change to how v3 CRM APIs return association data": "if your
  request returns more than 100 associations, you will need to use the value of the
  after field … to get the next set"). The sandbox does not serve that link; clients read
  the rest through the v4 batch read, as HubSpot's client maintainers advise
  (hubspot-api-python#187).
* **The v4 batch read** (``POST /crm/v4/associations/{from}/{to}/batch/read``): ≤ 1,000
  inputs (changelog "Batch Read Limit for HubSpot Associations API", 10 Feb 2025), each
  ``{"id"}`` or ``{"id", "after"}``; paging is per result — "the 'after' field in a
  returned paging object can be added alongside the 'id' to retrieve the next page of
  associations from that objectId … the 'paging' field will only be present if there are
  more pages". HubSpot states no page size for this read (its per-object v4 list says
  "Limit 500 per call"; one community report saw 600 in one result), so the sandbox's is
  a knob, :data:`V4_PAGE_DEFAULT` (500) unless told otherwise.

``after`` tokens are opaque to clients; here they are the id of the next associated
record, so a page boundary stays put when links are added elsewhere in the list.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any, Final

EMBEDDED_PAGE: Final = 100
"""Associated ids per target type embedded in a v3 object read."""

V4_PAGE_DEFAULT: Final = 500
"""Associated ids per result of a v4 batch read, unless the sandbox is told otherwise."""


def page_of(ids: Sequence[int], after: str | None, size: int) -> tuple[list[int], int | None]:
    """One page of the sorted associated ``ids`` from ``after`` on, and the next one's start.

    ``after`` is an id (the token this module hands out); one that is no number starts
    at the beginning, as an unknown token would at HubSpot — never past the end.
    """
    start = 0
    if after:
        try:
            start = bisect.bisect_left(ids, int(after))
        except ValueError:
            start = 0
    page = list(ids[start : start + size])
    following = ids[start + size] if start + size < len(ids) else None
    return page, following


def embedded_block(
    ids: Sequence[int],
    to_id: Any,
    *,
    label: str,
    link: str,
) -> dict[str, Any]:
    """The ``associations.{toType}`` block of a v3 read: ≤ 100 ids, then ``paging``.

    ``ids`` are the associated records' keys in order, ``to_id`` turns a key into its
    HubSpot id, ``link`` is the record's ``…/associations/{toType}`` URL.
    """
    page, following = page_of(ids, None, EMBEDDED_PAGE)
    block: dict[str, Any] = {"results": [{"id": to_id(k), "type": label} for k in page]}
    if following is not None:
        after = str(following)
        block["paging"] = {"next": {"after": after, "link": f"{link}?after={after}"}}
    return block


def v4_result(
    from_id: str,
    ids: Sequence[int],
    to_id: Any,
    *,
    after: str | None,
    size: int,
    type_id: int,
) -> dict[str, Any]:
    """One result of a v4 batch read: a page of ``to`` and, if more follow, ``paging``."""
    page, following = page_of(ids, after, size)
    result: dict[str, Any] = {
        "from": {"id": from_id},
        "to": [
            {
                "toObjectId": int(to_id(k)),
                "associationTypes": [
                    {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}
                ],
            }
            for k in page
        ],
    }
    if following is not None:
        result["paging"] = {"next": {"after": str(following)}}
    return result
