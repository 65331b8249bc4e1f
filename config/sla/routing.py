"""Routing: how fast a new MQL gets an owner (issue 18, item 1).

```yaml
routing: {within: 10m, target: 0.95}
sales:
  first_touch: {within: 5m, target: 0.9, clock: assignment}
```

``routing.within`` is business time from the handoff to the first owner assignment (a
Salesforce queue is no owner); the ``routing`` rule judges it. ``first_touch.clock`` says
whose clock speed to lead reads: ``handoff`` (the default: the lead's wait, as before) or
``assignment`` (the rep's own, from the moment they got the lead, in their own working
hours and without their time off). Either way each late first touch is attributed to
routing, to the rep, or to both (docs/SEMANTICS.md, Routing and time off).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict

from config.sla.values import Duration, Share


class Routing(BaseModel):
    """The routing promise: an owner within ``within`` business time, for ``target`` of MQLs."""

    model_config = ConfigDict(extra="forbid")

    within: Duration = timedelta(minutes=10)
    target: Share = 0.95
    warn_margin: Share | None = None
