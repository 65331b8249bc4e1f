"""The plan command's text: the SLA arithmetic written out as a person would check it."""

from __future__ import annotations

from audit.plan import Plan


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def render_plan(plan: Plan) -> str:
    lines = [f"SLA plan: {plan.sla}", ""]
    if plan.customers_needed is None:
        lines.append("No goals in the SLA file: add a goals block to derive the MQLs needed.")
    else:
        lines += [
            f"customers needed = revenue {_num(plan.revenue_per_month)} × marketing share "
            f"{_num(plan.marketing_share, 2)} ÷ average deal {_num(plan.average_deal_size)} "
            f"= {_num(plan.customers_needed)}",
            f"MQLs needed      = {_num(plan.customers_needed)} customers ÷ MQL→customer "
            f"{_num(plan.mql_to_customer, 3)} = {_num(plan.mqls_needed)} a month",
        ]
    lines.append(f"MQL target in the SLA: {_num(plan.mqls_target)} a month")
    if plan.active_reps is not None:
        lines.append(
            f"per active rep: {_num(plan.mqls_per_rep)} MQLs a month "
            f"({plan.active_reps} active reps)"
        )
    history = plan.history
    if history is not None:
        lines += [
            "",
            f"Measured over {', '.join(history.months)} ({history.handoffs} handoffs):",
            f"  {'rate':<22}{'configured':>12}{'measured':>12}",
            f"  {'MQLs a month':<22}{_num(plan.mqls_target):>12}{_num(history.mqls_per_month):>12}",
            f"  {'MQL→SQL':<22}{_pct(plan.mql_to_sql):>12}{_pct(history.mql_to_sql):>12}",
            f"  {'MQL→customer':<22}{_pct(plan.mql_to_customer):>12}"
            f"{_pct(history.mql_to_customer):>12}",
        ]
        if plan.mqls_needed_at_measured_rate is not None:
            lines.append(
                f"  at the measured MQL→customer rate, MQLs needed = "
                f"{_num(plan.mqls_needed_at_measured_rate)} a month"
            )
        for title, split in (
            ("segment", history.by_segment),
            ("lead source", history.by_lead_source),
        ):
            if not split:
                continue
            lines += [
                "",
                f"  by {title}:",
                f"  {'':<24}{'MQLs/month':>12}{'→SQL':>10}{'→customer':>12}",
            ]
            for name, rates in split.items():
                lines.append(
                    f"  {name[:24]:<24}{_num(rates['mqls_per_month']):>12}"
                    f"{_pct(rates['mql_to_sql']):>10}{_pct(rates['mql_to_customer']):>12}"
                )
    return "\n".join(lines)
