"""The SLA file: its model, its loader, and the promise it makes in plain words.

The SLA file is written by a revenue-operations lead, not by a programmer, so this package
has two jobs beyond parsing. First, nothing may be silently misread: unknown keys, bare
numbers where a duration belongs (is ``5`` minutes or seconds?), percentages written as
``90`` and a ``derived`` volume without the goals to derive it from are all errors,
because each of them would otherwise switch a rule off or change its number while the
audit still looks valid. Second, every problem is reported at once, one line each, as
``<yaml.path>: <what is wrong and the fix>``, so a broken file is fixed in one pass.

Semantics of every key: docs/SEMANTICS.md §7 and ``config/sla.example.yaml``.

The modules, in import order: ``wording`` (the error and its lines), ``values`` and
``hours`` (the value types), ``holidays``, ``funnel``, ``marketing``, ``sales`` and ``model`` (the
blocks and the whole), ``problems`` (pydantic's errors as lines), ``load`` (file → model)
and ``summary`` (model → words). Everything callers use is re-exported here, so
``from config.sla import SLA, load_sla`` keeps working.
"""

from __future__ import annotations

from config.dispositions import BUILTIN_OUTCOMES, HUBSPOT_DISPOSITION_LABELS
from config.durations import parse_duration
from config.sla.funnel import CanonicalStage, FunnelStage, Source
from config.sla.holidays import Holidays
from config.sla.hours import END_OF_DAY
from config.sla.load import load_sla, parse_sla
from config.sla.marketing import Goals, Marketing, PerRep
from config.sla.model import RULE_IDS, SLA
from config.sla.sales import Attempts, Channel, Coverage, FirstTouch, Recycle, Sales
from config.sla.segments import LEAD_FIELDS, NO_VALUE, Segments
from config.sla.summary import holiday_list, summarize
from config.sla.teams import AlertChannel, Alerts, Team
from config.sla.tiers import BASE_TIER, Tier
from config.sla.wording import SLAError

__all__ = [
    "BASE_TIER",
    "BUILTIN_OUTCOMES",
    "END_OF_DAY",
    "HUBSPOT_DISPOSITION_LABELS",
    "LEAD_FIELDS",
    "NO_VALUE",
    "RULE_IDS",
    "SLA",
    "AlertChannel",
    "Alerts",
    "Attempts",
    "CanonicalStage",
    "Channel",
    "Coverage",
    "FirstTouch",
    "FunnelStage",
    "Goals",
    "Holidays",
    "Marketing",
    "PerRep",
    "Recycle",
    "SLAError",
    "Sales",
    "Segments",
    "Source",
    "Team",
    "Tier",
    "holiday_list",
    "load_sla",
    "parse_duration",
    "parse_sla",
    "summarize",
]
