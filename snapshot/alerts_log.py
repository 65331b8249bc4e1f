"""``watch``'s outbox in the snapshot: what was alerted, to which channel, and how it went.

Exactly once is a protocol over the ``alerts_sent`` table, each step its own committed
transaction (docs/CONTRACTS.md, "watch"):

1. **queued** — the alert is written with its text before anything is sent. Its key (kind,
   rule, subject, channel) is the primary key, so finding the same breach again adds
   nothing: a breach is queued once, whatever the runs that see it.
2. **sending** — just before the channel is called, with ``attempts`` + 1.
3. **delivered** or **failed** — after the call, with the error's one line.

A failed row is tried again by the next runs, up to :data:`MAX_ATTEMPTS`. A row still
``sending`` when a run starts belongs to a run that stopped mid-delivery: the channel may
or may not have received it, and a second copy is the one outcome we promise never to
produce, so it becomes ``interrupted`` and is not sent again. A queued per-lead alert
that waits past its ``expires_at`` (an at-risk warning whose deadline came) becomes
``expired``: the breach alert says the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from snapshot.store import SnapshotStore, utc_now

MAX_ATTEMPTS = 5
"""Deliveries tried per alert before it is left ``failed`` for good (one per run)."""

RETRYABLE = ("queued", "failed")


@dataclass(frozen=True)
class Outgoing:
    """One alert for one channel, as queued: the key, who it is about, and its text."""

    kind: str
    rule: str
    subject: str
    channel: str
    team: str
    rep: str
    title: str
    text: str
    html: str
    expires_at: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.kind, self.rule, self.subject, self.channel)

    @property
    def body(self) -> tuple[str, str, str]:
        return (self.title, self.text, self.html)


def known_keys(store: SnapshotStore, kind: str | None = None) -> set[tuple[str, str, str, str]]:
    """Keys already in the outbox (of ``kind``), whatever became of them."""
    sql = "select kind, rule, subject, channel from alerts_sent"
    rows = store.db.execute(sql + (" where kind = ?" if kind else ""), [kind] if kind else [])
    return {tuple(row) for row in rows.fetchall()}  # type: ignore[misc]


def queue(store: SnapshotStore, alerts: Iterable[Outgoing]) -> int:
    """Queue the alerts not queued before; returns how many are new."""
    now = utc_now()
    added = 0
    with store.transaction():
        for alert in alerts:
            cursor = store.db.execute(
                "insert or ignore into alerts_sent (kind, rule, subject, channel, team, rep, "
                "queued_at, expires_at, status, delivered, attempts, title, text, html) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0, 0, ?, ?, ?)",
                [*alert.key, alert.team, alert.rep, now, alert.expires_at, *alert.body],
            )
            added += int(cursor.rowcount or 0)
    return added


def close_interrupted(store: SnapshotStore) -> int:
    """Rows a stopped run left ``sending`` become ``interrupted`` (never resent)."""
    with store.transaction():
        cursor = store.db.execute(
            "update alerts_sent set status = 'interrupted', error = ? where status = 'sending'",
            ["the run stopped while delivering; not sent again, so it cannot arrive twice"],
        )
    return int(cursor.rowcount or 0)


def expire(store: SnapshotStore, as_of: str) -> int:
    """Queued or failed alerts whose moment has passed become ``expired``."""
    with store.transaction():
        cursor = store.db.execute(
            "update alerts_sent set status = 'expired' where status in ('queued', 'failed') "
            "and expires_at is not null and expires_at <= ?",
            [as_of],
        )
    return int(cursor.rowcount or 0)


def due(store: SnapshotStore, kinds: Sequence[str]) -> list[dict[str, Any]]:
    """Rows to deliver now: queued, or failed with attempts left; oldest first."""
    marks = ", ".join("?" for _ in kinds)
    cursor = store.db.execute(
        f"select * from alerts_sent where status in ('queued', 'failed') and attempts < ? "
        f"and kind in ({marks}) order by queued_at, kind, rule, subject, channel",
        [MAX_ATTEMPTS, *kinds],
    )
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _where_keys(keys: Sequence[tuple[str, str, str, str]]) -> tuple[str, list[str]]:
    clause = " or ".join("(kind = ? and rule = ? and subject = ? and channel = ?)" for _ in keys)
    return f"({clause})", [part for key in keys for part in key]


def mark_sending(store: SnapshotStore, keys: Sequence[tuple[str, str, str, str]]) -> None:
    """Step 2: the intent to call the channel now, committed before the call."""
    where, args = _where_keys(keys)
    with store.transaction():
        store.db.execute(
            f"update alerts_sent set status = 'sending', attempts = attempts + 1 where {where}",
            args,
        )


def mark_result(
    store: SnapshotStore, keys: Sequence[tuple[str, str, str, str]], error: str | None
) -> None:
    """Step 3: delivered (``error`` None) or failed with its one line."""
    where, args = _where_keys(keys)
    status, delivered = ("delivered", 1) if error is None else ("failed", 0)
    with store.transaction():
        store.db.execute(
            f"update alerts_sent set status = ?, delivered = ?, error = ?, sent_at = ? "
            f"where {where}",
            [status, delivered, error, utc_now(), *args],
        )


def waiting(store: SnapshotStore) -> int:
    """Alerts queued or failed with attempts left: what later runs still owe."""
    row = store.db.execute(
        "select count(*) from alerts_sent where status in ('queued', 'failed') and attempts < ?",
        [MAX_ATTEMPTS],
    ).fetchone()
    return int(row[0])


def last_watch_as_of(store: SnapshotStore) -> str | None:
    """The as-of of the last ``watch`` run that finished (None before the first)."""
    row = store.db.execute("select as_of from watch_runs order by id desc limit 1").fetchone()
    return row[0] if row else None


def record_watch_run(store: SnapshotStore, started_at: str, as_of: str, **counts: int) -> None:
    """The run's as-of, which starts the next run's "since the last run" window."""
    with store.transaction():
        store.db["watch_runs"].insert(
            {"started_at": started_at, "as_of": as_of, "finished_at": utc_now(), **counts}
        )
