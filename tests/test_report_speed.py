"""The JSON report's fast path writes exactly what the plain layout would.

The writer encodes evidence column by column (one encoder call per column) and joins each
line from a template; these tests compare it with the plain definition of the layout —
outer two levels indented, each element below them ``json.dumps(element,
ensure_ascii=False)`` — on hostile values, on mixed and nested columns, and on results whose
rules carry different instants. They also check that a large month really takes the fast
path (encoder calls per column, not per row).
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.reports import json_report
from audit.reports.json_report import encode_column, encode_records, render_json
from audit.result import AuditResult, PendingHandoff, RepRow, RuleResult, Violation

HOSTILE_TEXT = [
    "",
    "plain",
    'quote " inside',
    '", "',
    'ends with ", ',
    "}, {",
    "back\\slash\\",
    "new\nline",
    "\r\n\t\x00\x1f\x7f",
    "João Ñúñez",
    "line\u2028separator\u2029",
    "emoji 🙂",
    "%s %% %(name)s {0}",
    '=HYPERLINK("http://x")',
]


def plain_layout(value: Any, level: int = 0) -> str:
    """The layout by definition (the writer before the column-wise fast path)."""
    if level >= 2 or not isinstance(value, dict | list) or not value:
        return json.dumps(value, ensure_ascii=False)
    inner = "\n" + "  " * (level + 1)
    if isinstance(value, dict):
        items = [
            json.dumps({key: None}, ensure_ascii=False)[1 : -len(": null}")]
            + ": "
            + plain_layout(item, level + 1)
            for key, item in value.items()
        ]
        opening, closing = "{", "}"
    else:
        items = [plain_layout(item, level + 1) for item in value]
        opening, closing = "[", "]"
    return opening + inner + ("," + inner).join(items) + "\n" + "  " * level + closing


def expected(values: list[Any]) -> list[str]:
    return [json.dumps(value, ensure_ascii=False) for value in values]


@pytest.mark.parametrize(
    "values",
    [
        [],
        HOSTILE_TEXT,
        HOSTILE_TEXT * 10,  # few distinct values: encoded once per value
        [None, "a", None, None, None, None, None, None],
        [1, True, 1.0, "1", None, 0, False, 0.0, -0.0],  # equal keys, different text
        [math.nan, math.inf, -math.inf, 1e300, 5e-324, 0.1 + 0.2, 2**70],
        [[1, 2], [], ["a\nb"], [{"x": 1}], [[1], [2, 3]]],  # containers of several items
        [{"a": 1}, {"a": 2, "b": [1, 2]}, {}],  # maps of different members
        [{}, {}, {}],
        [{"b": "x", "a": None}, {"b": "y", "a": "z"}],  # same members, not sorted
        [{"b": "x", "a": None}, {"a": "z", "b": "y"}],  # same members, another order
        [{1: "int key", None: "none key"}, {1: "x", None: "y"}],
        [{"deep": {"er": ["a", {"b": "c"}]}}] * 3,
    ],
)
def test_a_column_is_encoded_exactly_as_json_dumps(values: list[Any]) -> None:
    assert encode_column(values) == expected(values)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(alphabet=st.characters(codec="utf-8"))
    | st.sampled_from(HOSTILE_TEXT),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(json_values, max_size=12))
def test_any_column_is_encoded_exactly_as_json_dumps(values: list[Any]) -> None:
    assert encode_column(values) == expected(values)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "when": st.none() | st.sampled_from(HOSTILE_TEXT),
                "deadline": st.sampled_from(["2026-10-01T12:05:00.000Z", "x"]),
            }
        ),
        max_size=8,
    )
)
def test_rows_of_instants_are_encoded_exactly_as_json_dumps(rows: list[dict[str, Any]]) -> None:
    keys = ("when", "deadline")
    columns = [[row[key] for row in rows] for key in keys]
    in_order = [{key: row[key] for key in keys} for row in rows]
    assert encode_records(keys, columns) == expected(in_order)


def violation(rule: str, n: int, text: str, instants: dict[str, str | None]) -> Violation:
    return Violation(
        rule=rule,
        lead=f"hubspot:{n}",
        crm_id=str(n),
        rep=["ana@acme.example", "bruno@acme.example", "unassigned"][n % 3],
        handoff_at=f"2026-10-{1 + n % 28:02d}T12:00:00.000Z",
        reason=f"{text} #{n}",
        url=None if n % 4 == 0 else f"https://app.hubspot.com/contacts/1/record/0-1/{n}",
        source="hubspot",
        kind=["late", "untouched"][n % 2],
        instants=instants,
    )


def pending(rule: str, n: int) -> PendingHandoff:
    return PendingHandoff(
        rule=rule,
        lead=f"hubspot:{n}",
        crm_id=str(n),
        rep="ana@acme.example",
        handoff_at="2026-10-30T20:55:21.118Z",
        decided_by="first-touch deadline",
        url=None if n % 2 else "https://app.hubspot.com/contacts/1/record/0-1/1",
    )


def rule(rule_id: str, violations: list[Violation], waiting: list[PendingHandoff]) -> RuleResult:
    return RuleResult(
        id=rule_id,
        status="fail",
        measured=1 / 3,
        target=0.9,
        judged=len(violations) * 3,
        pending=len(waiting),
        details={"median_minutes": 16.93715, "by_source": {"hubspot": 3}, "none": None},
        reps=[RepRow("ana@acme.example", rule_id, 0.5, 2, pending=1, violations=1)],
        violations=violations,
        pending_handoffs=waiting,
    )


def month(size: int) -> AuditResult:
    """Rules whose violations carry different instants (or none), some with no evidence."""
    speed = [
        violation(
            "speed_to_lead",
            n,
            HOSTILE_TEXT[n % len(HOSTILE_TEXT)],
            {
                "first_touch_at": None if n % 2 else "2026-10-01T12:50:07.285Z",
                "deadline": "2026-10-01T12:05:00.000Z",
            },
        )
        for n in range(size)
    ]
    coverage = [
        violation("coverage", n, "no attempt", {"window_end": "2026-10-15T03:00:00.000Z"})
        for n in range(size // 2)
    ]
    odd = [violation("recycling", n, "stuck", {}) for n in range(3)]
    return AuditResult(
        sla="Acme × João",
        period="2026-10",
        as_of="2026-11-01T03:00:00.000Z",
        timezone="America/Sao_Paulo",
        rules=[
            rule("speed_to_lead", speed, [pending("speed_to_lead", n) for n in range(size)]),
            rule("coverage", coverage, []),
            rule("attempts", [], [pending("attempts", n) for n in range(5)]),
            rule("recycling", odd, []),
            rule("conversion", [], []),
        ],
        data_notes=["3 deleted leads left out", 'a "quoted" note\nwith a newline'],
        sources={"hubspot": "hubspot"},
    )


@pytest.mark.parametrize("size", [0, 1, 2, 40])
def test_the_report_is_the_plain_layout_of_to_dict(size: int) -> None:
    result = month(size)

    assert render_json(result) == plain_layout(result.to_dict()) + "\n"


def test_a_month_without_evidence_or_rules_has_the_plain_layout() -> None:
    result = month(0)
    result.rules = []
    result.data_notes = []

    assert render_json(result) == plain_layout(result.to_dict()) + "\n"


def test_to_dict_lists_evidence_members_in_the_contract_order() -> None:
    doc = month(2).to_dict()

    assert list(doc["violations"][0]) == [
        "rule", "lead", "crm_id", "rep", "handoff_at", "reason", "url", "source", "kind",
        "instants", "tier", "lead_name", "company", "email", "rep_name", "attributed_to",
    ]  # fmt: skip
    assert list(doc["pending"][0]) == [
        "rule", "lead", "crm_id", "rep", "handoff_at", "decided_by", "url", "tier",
        "lead_name", "company", "email", "rep_name",
    ]  # fmt: skip


def test_a_large_month_is_encoded_per_column_not_per_row(monkeypatch) -> None:
    calls = {"n": 0}
    real = json_report._BY_LINE.encode, json_report._ONE.encode

    class Counting:
        def __init__(self, encode: Any) -> None:
            self.real = encode

        def encode(self, value: Any) -> str:
            calls["n"] += 1
            return self.real(value)

    monkeypatch.setattr(json_report, "_BY_LINE", Counting(real[0]))
    monkeypatch.setattr(json_report, "_ONE", Counting(real[1]))
    result = month(3000)  # 7,500 evidence rows

    text = render_json(result)

    assert calls["n"] < 250  # a few per column and per outer member, whatever the rows
    assert text == plain_layout(result.to_dict()) + "\n"
