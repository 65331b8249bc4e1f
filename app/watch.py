"""``run_audit.py watch``: sync, find what breached since the last run and what is about to,
alert each team's channels once, and a daily digest to each team's manager.

Meant for cron every 15 minutes, next to ``nightly``. Its choices:

* **The audit's own judgement.** Breaches are the audit's violations at the same as-of
  (:mod:`app.watch_findings`), so an alert never contradicts next month's report.
* **As-of is what the syncs confirmed** (as ``nightly``): the end of this run's syncs, or
  of a failed source's last good one; ``--as-of`` overrides it. "Since the last run" is
  (the previous run's as-of, this as-of]; the first run looks back :data:`FIRST_LOOKBACK`.
* **Who hears of it.** A rep's breaches go to the ``notify`` channels of the rep's team.
  A rep in no team (or a team with no channels) is alerted nowhere: ``watch`` counts
  those and says so, so a missing team line is seen rather than silently dropped.
* **Quiet hours.** With ``alerts.quiet_outside_business_hours`` (the default), per-lead
  alerts found while the SLA's calendar is closed are queued and go out with the first run
  in opening hours; an at-risk warning whose deadline passed meanwhile expires. The daily
  digest goes out once per local day, at the first run after that day's opening (days
  with no opening hours get none), or at once with ``--digest``.
* **Exactly once** (:mod:`snapshot.alerts_log`): queued before sending, marked after;
  ``--dry-run`` prints what would be sent and writes nothing of its own.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from app.alerts_delivery import Delivery, Send, channel_urls, deliver
from app.alerts_message import DigestInput, digest_message, event_message
from app.cli_errors import UserError
from app.nightly import SourceOutcome, SyncFn, as_of_after_syncs, sync_one
from app.watch_findings import Finding, Findings, evaluate
from audit.engine import default_as_of, open_snapshot
from audit.wording import local_instant
from config.exit_codes import EXIT_ERROR, EXIT_OK
from config.logging_setup import event
from config.settings import Settings
from config.sla import SLA, load_sla
from config.sources import NO_CREDENTIALS
from snapshot import alerts_log
from snapshot.alerts_log import Outgoing
from snapshot.instants import format_instant, parse_instant
from snapshot.lock import SnapshotLock
from snapshot.store import SnapshotStore, utc_now

log = logging.getLogger(__name__)

FIRST_LOOKBACK = timedelta(hours=24)
"""How far back the first ``watch`` run of a snapshot alerts breaches."""
EVENT_KINDS = ("breach", "at_risk")


@dataclass
class WatchOptions:
    """The command line's choices."""

    sync: bool = True
    dry_run: bool = False
    as_of: datetime | None = None
    digest: bool = False
    wait_s: float = 0.0


@dataclass
class WatchResult:
    """What one run found, queued and delivered."""

    sla: SLA
    as_of: str = ""
    since: str = ""
    syncs: list[SourceOutcome] = field(default_factory=list)
    breaches: int = 0
    at_risk: int = 0
    no_team: int = 0
    no_channel: int = 0
    """Findings of reps whose team (or themselves) have no channel to notify."""
    queued: int = 0
    quiet: bool = False
    planned: list[Outgoing] = field(default_factory=list)
    delivery: Delivery = field(default_factory=Delivery)
    interrupted: int = 0
    waiting: int = 0
    dry_run: bool = False

    def exit_code(self) -> int:
        """2 when a sync or a delivery failed (the rest was still done), else 0."""
        failed = any(not s.ok for s in self.syncs) or self.delivery.failed
        return EXIT_ERROR if failed else EXIT_OK

    def line(self) -> str:
        """The one summary line on stdout."""
        tz = self.sla.timezone
        syncs = "; synced " + ", ".join(s.words() for s in self.syncs) if self.syncs else ""
        found = (
            f"{self.breaches} breach{'es' if self.breaches != 1 else ''} since "
            f"{local_instant(self.since, tz)}, {self.at_risk} at risk"
        )
        unsent = [
            f"{self.no_team} for reps in no team" if self.no_team else "",
            f"{self.no_channel} for teams with no channel" if self.no_channel else "",
        ]
        if any(unsent):
            found += f" ({', '.join(part for part in unsent if part)}: not alerted)"
        if self.dry_run:
            return f"watch as of {local_instant(self.as_of, tz)}{syncs}; {found}; dry run: " + (
                f"{len(self.planned)} alert(s) would be sent, nothing recorded"
            )
        sent = f"{self.queued} new alert(s), {self.delivery.delivered} delivered"
        if self.quiet:
            sent += ", per-lead alerts wait for opening hours"
        if self.delivery.failed:
            sent += f", delivery failed on {len(self.delivery.failed)} channel(s)"
        if self.interrupted:
            sent += f", {self.interrupted} left unsent by a stopped run (not resent)"
        if self.waiting:
            sent += f", {self.waiting} waiting"
        return f"watch as of {local_instant(self.as_of, tz)}{syncs}; {found}; {sent}"

    def failure_lines(self) -> list[str]:
        """One line per channel whose delivery failed (stderr)."""
        return [
            f"delivery to channel {name} failed: {error}; retried on the next run"
            for name, error in sorted(self.delivery.failed.items())
        ]


def run_watch(
    sla_path: str,
    db: str,
    settings: Settings,
    options: WatchOptions,
    *,
    sync: SyncFn,
    send: Send,
    environ: Mapping[str, str],
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> WatchResult:
    """One watch run; raises only for what stops it before it starts (one line, exit 2)."""
    sla = load_sla(sla_path)
    urls = {} if options.dry_run else channel_urls(sla, environ)
    sources = settings.configured_sources() if options.sync else []
    if options.sync and not sources:
        raise UserError(f"{NO_CREDENTIALS}; or pass --no-sync to watch the snapshot as it is")
    result = WatchResult(sla=sla, dry_run=options.dry_run)
    started = utc_now()
    with SnapshotLock(db, command="run_audit.py watch", wait_s=options.wait_s):
        store = SnapshotStore(db, create=options.sync)
        try:
            as_of = _sync_then_as_of(store, sources, settings, sync, options, result)
            conn = open_snapshot(db)
            try:
                check_managers(conn, sla)
                findings = evaluate(conn, sla, as_of)
            finally:
                conn.close()
            _plan(store, sla, findings, options, result, now())
            if not options.dry_run:
                _deliver(store, urls, send, result)
                alerts_log.record_watch_run(
                    store,
                    started,
                    result.as_of,
                    breaches=result.breaches,
                    at_risk=result.at_risk,
                    delivered=result.delivery.delivered,
                    failed=len(result.delivery.failed),
                )
        finally:
            store.close()
    _log(result)
    return result


def check_managers(conn: sqlite3.Connection, sla: SLA) -> None:
    """A team's manager must be a CRM user: the digest is theirs, and a typo would send it
    to nobody's team without a word. One line per unknown manager, naming the key."""
    if not sla.teams:
        return
    users = {
        str(email).strip().lower()
        for (email,) in conn.execute("select email from owners where email is not null")
    }
    unknown = [
        f"teams.{name}.manager: {team.manager} is no user of the synced CRMs; name the "
        "manager by the email of their CRM user"
        for name, team in sla.teams.items()
        if team.manager not in users
    ]
    if unknown:
        raise UserError("\n".join(unknown))


def _sync_then_as_of(
    store: SnapshotStore,
    sources: list[str],
    settings: Settings,
    sync: SyncFn,
    options: WatchOptions,
    result: WatchResult,
) -> datetime:
    """Sync (unless ``--no-sync``) and settle as-of and the window's start."""
    if sources:
        store.mark_interrupted_runs()
        result.syncs = [sync_one(source, store, settings, sync) for source in sources]
    as_of = options.as_of
    if as_of is None and sources:
        as_of, _ = as_of_after_syncs(store, sources, result.syncs)
    if as_of is None:
        as_of = default_as_of(store.db.conn)
    previous = alerts_log.last_watch_as_of(store)
    since = parse_instant(previous) if previous else as_of - FIRST_LOOKBACK
    result.as_of, result.since = format_instant(as_of), format_instant(min(since, as_of))
    return as_of


def _plan(
    store: SnapshotStore,
    sla: SLA,
    findings: Findings,
    options: WatchOptions,
    result: WatchResult,
    wall: datetime,
) -> None:
    """The alerts this run owes, not already in the outbox; queued unless a dry run."""
    new = findings.breaches_between(parse_instant(result.since), findings.as_of)
    result.breaches, result.at_risk = len(new), len(findings.at_risk)
    outgoing: list[Outgoing] = []
    for finding in [*new, *findings.at_risk]:
        routed = _routed(sla, finding)
        in_team = bool(finding.rep) and sla.team_of(finding.rep) is not None
        result.no_team += int(not routed and not in_team)
        result.no_channel += int(not routed and in_team)
        outgoing += routed
    outgoing += _digests(sla, findings, options.digest)
    known = alerts_log.known_keys(store)
    result.planned = [alert for alert in outgoing if alert.key not in known]
    result.quiet = sla.alerts.quiet_outside_business_hours and not _open(findings)
    if not options.dry_run:
        result.queued = alerts_log.queue(store, result.planned)


def _routed(sla: SLA, finding: Finding) -> list[Outgoing]:
    """The finding's alert for each channel of its rep's team and the rep's own channels
    (none for a rep in no team)."""
    team = sla.team_of(finding.rep) if finding.rep else None
    if team is None:
        return []
    message = event_message(finding, sla.timezone)
    return [
        Outgoing(
            kind=finding.kind,
            rule=finding.rule,
            subject=finding.subject,
            channel=channel,
            team=team,
            rep=finding.rep,
            title=message.title,
            text=message.text,
            html=message.html,
            expires_at=finding.deadline if finding.kind == "at_risk" else None,
        )
        for channel in sla.teams[team].channels_for(finding.rep)
    ]


def _open(findings: Findings) -> bool:
    """Whether the SLA's calendar is open at as-of."""
    as_of = findings.as_of
    return findings.calendar.business_seconds(as_of, as_of + timedelta(seconds=1)) > 0


def _digests(sla: SLA, findings: Findings, forced: bool) -> list[Outgoing]:
    """Each team's digest for the local day of as-of, when it is due (or ``--digest``)."""
    local = findings.as_of.astimezone(sla.tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    opening = findings.calendar.add_business(midnight, 1) - timedelta(seconds=1)
    due = opening.astimezone(sla.tz).date() == local.date() and findings.as_of >= opening
    if not (due or forced):
        return []
    day = local.date().isoformat()
    yesterday = findings.breaches_between(midnight - timedelta(days=1), midnight)
    alerts = []
    for name, team in sla.teams.items():
        reps = set(team.reps)
        message = digest_message(
            DigestInput(
                team=name,
                manager=team.manager,
                day=day,
                timezone=sla.timezone,
                yesterday=[f for f in yesterday if f.rep in reps],
                due_today=[f for f in findings.due_today if f.rep in reps],
                month=findings.month_rules,
                reps=team.reps,
            )
        )
        parts = (message.title, message.text, message.html)
        alerts += [
            Outgoing("digest", "", f"{name}@{day}", channel, name, team.manager, *parts)
            for channel in team.notify
        ]
    return alerts


def _deliver(
    store: SnapshotStore, urls: Mapping[str, str], send: Send, result: WatchResult
) -> None:
    """Close what a stopped run left, expire stale warnings, then send what is due."""
    result.interrupted = alerts_log.close_interrupted(store)
    alerts_log.expire(store, result.as_of)
    kinds = ("digest",) if result.quiet else ("digest", *EVENT_KINDS)
    result.delivery = deliver(store, urls, kinds, send)
    result.waiting = alerts_log.waiting(store)


def _log(result: WatchResult) -> None:
    log.info(
        result.line(),
        extra=event(
            "watch",
            as_of=result.as_of,
            since=result.since,
            breaches=result.breaches,
            at_risk=result.at_risk,
            queued=result.queued,
            delivered=result.delivery.delivered,
            failed=sorted(result.delivery.failed),
            exit_code=result.exit_code(),
        ),
    )


def dry_run_lines(result: WatchResult) -> list[str]:
    """One line per alert a real run would queue: kind, channel, and its title."""
    return [
        f"would send {alert.kind} to {alert.channel} (team {alert.team}): {alert.title}"
        for alert in result.planned
    ]
