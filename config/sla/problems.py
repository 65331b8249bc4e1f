"""Pydantic's validation errors turned into the SLA file's problem lines.

One line per problem, ``<yaml.path>: <what is wrong and the fix>``: a missing key says what
to write, an unknown key suggests the nearest known one, a wrong type names the type
wanted. Anything not worded here falls back to pydantic's own message.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Mapping
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from config.sla.funnel import CanonicalStage
from config.sla.model import SLA
from config.sla.sales import Channel
from config.sla.wording import (
    Problems,
    as_written,
    dotted_path,
    join_words,
    problem_line,
    unknown_name,
)


def _plain(annotation: Any) -> Any:
    """``annotation`` without ``Annotated`` metadata and without ``| None``."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [arg for arg in get_args(annotation) if arg is not type(None)]
            models = [arg for arg in options if _is_model(arg)]
            if len(options) == 1:
                annotation = options[0]
            else:
                return models[0] if models else annotation
        else:
            return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _type_at(loc: tuple[str | int, ...]) -> Any:
    """The declared type found by following a pydantic error location from :class:`SLA`."""
    current: Any = SLA
    for part in loc:
        current = _plain(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        elif get_origin(current) is list:
            current = get_args(current)[0]
        else:
            return None
    return _plain(current)


def _required(loc: tuple[str | int, ...]) -> bool:
    parent = _type_at(loc[:-1]) if loc else None
    if isinstance(parent, type) and issubclass(parent, BaseModel) and isinstance(loc[-1], str):
        field = parent.model_fields.get(loc[-1])
        return field is not None and field.is_required()
    return True


_MISSING_FIXES: dict[str, str] = {
    "name": 'give the SLA a name, such as name: "Acme marketing–sales SLA 2026"',
    "timezone": "use an IANA name such as America/Sao_Paulo",
    "funnel": "map each CRM's raw values to stages, such as "
    "funnel: {hubspot: {mql: {stage: [marketingqualifiedlead]}}}",
    "goals.revenue_per_month": "give the new revenue a month, such as 1000000",
    "goals.marketing_share": "give the fraction of revenue from marketing, such as 0.6",
    "goals.average_deal_size": "give the average deal size, such as 20000",
    "goals.mql_to_customer": "give the fraction of MQLs that become customers, such as 0.05",
}

# Source names are no Literal: funnel._registered_source words their error itself.
_LITERAL_NOUNS: dict[frozenset[str], str] = {
    frozenset(get_args(CanonicalStage)): "stage",
    frozenset(get_args(Channel)): "channel",
}

_TYPE_MESSAGES: dict[str, str] = {
    "bool_type": "is not true or false",
    "bool_parsing": "is not true or false",
    "string_type": "is not text; put it in quotes",
    "list_type": "is not a list; write it as [a, b]",
    "dict_type": "is not a block of keys; write key: value lines under it",
    "model_type": "is not a block of keys; write key: value lines under it",
    "model_attributes_type": "is not a block of keys; write key: value lines under it",
    "int_type": "is not a whole number",
    "int_parsing": "is not a whole number",
    "int_from_float": "is not a whole number",
    "float_type": "is not a number",
    "float_parsing": "is not a number",
}


def _describe(error: Mapping[str, Any]) -> str:
    """One pydantic error as the second half of a problem line: what is wrong, the fix."""
    loc: tuple[str | int, ...] = tuple(error["loc"])
    kind: str = error["type"]
    given = error.get("input")
    if kind == "missing":
        fix = _MISSING_FIXES.get(dotted_path(loc), "this key is required")
        return f"missing; {fix}"
    if kind == "extra_forbidden":
        parent = _type_at(loc[:-1])
        known = list(parent.model_fields) if isinstance(parent, type) else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        if close:
            return f"unknown key; did you mean {close[0]}?"
        return f"unknown key; keys here are {join_words(known, 'and')}" if known else "unknown key"
    if given is None:
        if loc and isinstance(loc[-1], int):
            return "has no value; fill it in, or remove the item"
        if _required(loc):
            return "has no value; fill it in"
        return "has no value; fill it in, or remove the key to use the default"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == "literal_error":
        options = re.findall(r"'([^']*)'", error["ctx"]["expected"])
        noun = _LITERAL_NOUNS.get(frozenset(options), "value")
        if loc and loc[-1] == "[key]":
            return unknown_name(noun, given, options)
        close = difflib.get_close_matches(str(given).lower(), options, n=1)
        fix = f"use {join_words(options, 'or')}"
        if close:
            fix = f"did you mean {close[0]}? {fix.capitalize()}"
        return f"{as_written(given)} is not a {noun}; {fix}"
    if kind in _TYPE_MESSAGES:
        return f"{as_written(given)} {_TYPE_MESSAGES[kind]}"
    return str(error["msg"])


def problem_lines(error: ValidationError) -> list[str]:
    lines: list[str] = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        cause = item.get("ctx", {}).get("error")
        if isinstance(cause, Problems):
            found = [problem_line(loc + sub, message) for sub, message in cause.items]
        else:
            found = [problem_line(loc, _describe(item))]
        lines.extend(line for line in found if line not in lines)
    return lines
