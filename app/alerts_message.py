"""The words of ``watch``'s alerts: one per lead, and the daily digest, as text and HTML.

Each alert is written once, when it is queued, and stored with its row in the snapshot
(:mod:`snapshot.alerts_log`), so a retry sends the very text the first try did. Every
piece of CRM text goes through :func:`audit.wording.clean` (and is HTML-escaped in the
HTML part): a lead's name is typed by anyone and must not restyle a manager's mailbox.
Instants are the SLA's local time with their offset (:func:`audit.wording.local_instant`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from app.watch_findings import Finding
from audit.names import lead_words, rep_words
from audit.result import RuleResult
from audit.rules import ALL_RULES_BY_ID
from audit.wording import clean, in_unit, local_instant

HEADLINE = {"breach": "SLA breached", "at_risk": "About to breach"}
STATUS_WORDS = {
    "pass": "PASS",
    "warn": "WARN",
    "fail": "FAIL",
    "n/a": "no target",
    "no_data": "no data",
}


@dataclass(frozen=True)
class Message:
    """A title and a body in two forms: plain text and an HTML part."""

    title: str
    text: str
    html: str


def _lead_words(finding: Finding) -> str:
    """``Ana Lopez (Acme)``: the name, else the email, else the CRM id (audit/names.py)."""
    return lead_words(
        clean(finding.name) or None,
        clean(finding.company) or None,
        clean(finding.email) or None,
        clean(finding.crm_id),
    )


def _rep_words(rep: str, name: str) -> str:
    """``Ana Silva <ana@acme.example>``, or the rep's key alone."""
    return clean(rep_words(rep, name or None))


def _title(rule_id: str) -> str:
    """A rule's title, the optional ones (routing) included; an unknown id as itself."""
    known = ALL_RULES_BY_ID.get(rule_id)
    return known.title if known else rule_id


def event_message(finding: Finding, timezone: str) -> Message:
    """One lead's alert: who, which company, the CRM link, the deadline, what is missing."""
    rule = _title(finding.rule)
    when = local_instant(finding.deadline, timezone)
    due = "deadline" if finding.kind == "breach" else "due by"
    title = f"{HEADLINE[finding.kind]}: {rule} — {_lead_words(finding)}"
    link = finding.url or "no CRM link"
    text = "\n".join(
        [
            title,
            f"Rep: {_rep_words(finding.rep, finding.rep_name)}",
            f"Lead: {_lead_words(finding)} — {link}",
            f"{due.capitalize()}: {when}",
            f"Missing: {clean(finding.missing)}",
        ]
    )
    html = (
        f"<p><b>{escape(HEADLINE[finding.kind])}: {escape(rule)}</b><br>"
        f"Lead: {escape(_lead_words(finding))} — {_link(finding.url)}<br>"
        f"Rep: {escape(_rep_words(finding.rep, finding.rep_name))}<br>"
        f"{escape(due.capitalize())}: {escape(when)}<br>"
        f"Missing: {escape(clean(finding.missing))}</p>"
    )
    return Message(title, text, html)


def _link(url: str | None) -> str:
    """The CRM link with the address as its text: the plain-text part keeps it readable."""
    if not url:
        return "no CRM link"
    return f'<a href="{escape(url)}">{escape(url)}</a>'


def batch_message(team: str, parts: Sequence[tuple[str, str, str]]) -> Message:
    """Several queued alerts ``(title, text, html)`` for one channel as one message."""
    if len(parts) == 1:
        return Message(*parts[0])
    title = f"{len(parts)} SLA alerts for team {team}"
    text = "\n\n".join(part[1] for part in parts)
    html = f"<p><b>{escape(title)}</b></p>" + "".join(part[2] for part in parts)
    return Message(title, text, html)


@dataclass(frozen=True)
class DigestInput:
    """What one team's digest shows (the findings already narrowed to its reps)."""

    team: str
    manager: str
    day: str
    timezone: str
    yesterday: Sequence[Finding]
    due_today: Sequence[Finding]
    month: Sequence[RuleResult]
    reps: Sequence[str]


def digest_message(digest: DigestInput) -> Message:
    """The manager's morning read: yesterday by rep, today's deadlines, the month so far."""
    title = f"SLA digest {digest.day} — team {digest.team}"
    by_rep: dict[str, list[Finding]] = defaultdict(list)
    names: dict[str, str] = {}
    for finding in digest.yesterday:
        by_rep[finding.rep].append(finding)
        names[finding.rep] = names.get(finding.rep) or finding.rep_name
    text = [title, f"For {digest.manager}", "", f"Yesterday's breaches: {len(digest.yesterday)}"]
    html = [
        f"<h2>{escape(title)}</h2><p>For {escape(digest.manager)}</p>",
        f"<h3>Yesterday's breaches: {len(digest.yesterday)}</h3>",
    ]
    for rep in sorted(by_rep):
        who = _rep_words(rep, names.get(rep, ""))
        text.append(f"  {who}: {len(by_rep[rep])}")
        html.append(f"<h4>{escape(who)}: {len(by_rep[rep])}</h4>")
        rows = [_digest_row(f, digest.timezone) for f in by_rep[rep]]
        text += [f"    - {' | '.join(row)}" for row in rows]
        html.append(_items(by_rep[rep], digest.timezone))
    text += ["", f"At risk today: {len(digest.due_today)}"]
    html.append(f"<h3>At risk today: {len(digest.due_today)}</h3>")
    text += [f"  - {' | '.join(_digest_row(f, digest.timezone))}" for f in digest.due_today]
    if digest.due_today:
        html.append(_items(digest.due_today, digest.timezone))
    status = month_lines(digest.month, digest.reps)
    text += ["", "Month to date (provisional):", *[f"  {line}" for line in status]]
    html.append("<h3>Month to date (provisional)</h3><ul>")
    html += [f"<li>{escape(line)}</li>" for line in status]
    html.append("</ul>")
    return Message(title, "\n".join(text), _page("".join(html)))


def _digest_row(finding: Finding, timezone: str) -> tuple[str, str, str, str]:
    link = f" {finding.url}" if finding.url else ""
    return (
        _title(finding.rule),
        _lead_words(finding) + link,
        local_instant(finding.deadline, timezone),
        clean(finding.missing),
    )


def _items(findings: Sequence[Finding], timezone: str) -> str:
    """A list, not a table: mail clients' plain-text part (derived from it) stays readable."""
    rows = []
    for finding in findings:
        rule, _, when, missing = _digest_row(finding, timezone)
        rows.append(
            f"<li><b>{escape(rule)}</b> — {escape(_lead_words(finding))} — {escape(when)} — "
            f"{escape(missing)}<br>{_link(finding.url)}</li>"
        )
    return f"<ul>{''.join(rows)}</ul>"


def _page(body: str) -> str:
    return (
        '<html><body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;'
        f'color:#222">{body}</body></html>'
    )


def month_lines(rules: Sequence[RuleResult], reps: Sequence[str]) -> list[str]:
    """Per rule: status, measured against target, and the team's violations so far."""
    team = set(reps)
    lines = []
    for rule in rules:
        known = ALL_RULES_BY_ID.get(rule.id)
        unit = known.unit if known else "share"
        title = known.title if known else rule.id
        figure = f"{in_unit(rule.measured, unit)} (target {in_unit(rule.target, unit)})"
        line = f"{title}: {STATUS_WORDS.get(rule.status, rule.status)} — {figure}"
        if known is not None and known.counts_violations and known.rep_unit == "share":
            own = sum(row.violations for row in rule.reps if row.rep in team)
            line += f"; this team's violations: {own}"
        lines.append(line)
    return lines
