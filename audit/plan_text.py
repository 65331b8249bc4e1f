"""The plan command's text: the SLA arithmetic written out as a person would check it."""

from __future__ import annotations

from audit.plan import Plan


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def _given(value: float | None) -> str:
    """A factor exactly as the SLA file gives it (0.125 stays 0.125), so the equation adds up."""
    if value is None:
        return "—"
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def _rounded_up(value: float, whole: int | None, unit: str) -> str:
    """``= 30`` when whole; ``= 30.4, rounded up to 31 customers`` when not."""
    if float(value).is_integer() or whole is None:
        return f"= {_num(value)}"
    return f"= {value:,.2f}, rounded up to {whole:,} {unit}"


def _customers_term(plan: Plan) -> str:
    """The customers in the MQL equation: their number when whole, else the factors that
    give it, so the equation adds up from what the SLA file says (not from a rounded 5.21)."""
    if plan.customers_needed is not None and float(plan.customers_needed).is_integer():
        return f"{_num(plan.customers_needed)} customers"
    return (
        f"({_given(plan.revenue_per_month)} × {_given(plan.marketing_share)} ÷ "
        f"{_given(plan.average_deal_size)}) customers"
    )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def render_plan(plan: Plan) -> str:
    lines = [f"SLA plan: {plan.sla}", ""]
    if plan.customers_needed is None:
        lines.append("No goals in the SLA file: add a goals block to derive the MQLs needed.")
    else:
        assert plan.mqls_needed is not None
        lines += [
            f"customers needed = revenue {_given(plan.revenue_per_month)} × marketing share "
            f"{_given(plan.marketing_share)} ÷ average deal {_given(plan.average_deal_size)} "
            + _rounded_up(plan.customers_needed, plan.customers_needed_whole, "customers"),
            f"MQLs needed      = {_customers_term(plan)} ÷ MQL→customer "
            f"{_given(plan.mql_to_customer)} "
            + _rounded_up(plan.mqls_needed, plan.mqls_needed_whole, "MQLs")
            + " a month",
        ]
    lines.append(f"MQL target in the SLA: {_num(plan.mqls_target, 2)} a month")
    if plan.active_reps is not None:
        lines.append(
            f"per active rep: {_num(plan.mqls_per_rep)} MQLs a month "
            f"({plan.active_reps} active reps)"
        )
    lines += [f"warning: {warning}" for warning in plan.warnings]
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
