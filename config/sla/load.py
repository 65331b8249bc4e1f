"""Reading an SLA file: text, then YAML, then the model, each failure one clear line.

The file is data, so it is read with ``yaml.safe_load`` (no tags that run code), and keys
written twice are refused before YAML silently keeps the last one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import ValidationError

from config.sla.model import SLA
from config.sla.problems import problem_lines
from config.sla.wording import SLAError, as_written, problem_line

_YAML_HINTS: dict[str, str] = {
    "\\t": "indent with spaces, not tabs",
    "mapping values are not allowed": "check the indentation, and quote values containing ': '",
    "constructor for the tag": "remove the tag; the SLA file is plain data",
}


def parse_sla(data: object, source: str | Path | None = None) -> SLA:
    """Validate already-parsed SLA data (a mapping), raising :class:`SLAError`.

    ``source`` only labels the error (the file the data came from).
    """
    if not isinstance(data, Mapping):
        kind = "empty" if data is None else f"{as_written(data)}, not a block of keys"
        raise SLAError(
            [
                f"the SLA file is {kind}; it must be keys such as name:, timezone: and "
                "funnel: (start from config/sla.example.yaml)"
            ],
            source,
        )
    try:
        return SLA.model_validate(data)
    except ValidationError as error:
        lines = problem_lines(error)
        if isinstance(data.get("holidays"), list):  # the short form: name its keys as written
            lines = [line.replace("holidays.dates[", "holidays[", 1) for line in lines]
        raise SLAError(lines, source) from None


class DatesAsText(yaml.SafeLoader):
    """``yaml.safe_load``, except that dates stay text for the SLA model to read.

    PyYAML turns ``2026-02-29`` into a date while it parses and fails with a bare
    ``ValueError`` that names no key; read as text, the model refuses it with the key
    (``holidays[3]``) and why, like any other bad value.
    """


DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_sla(path: str | Path) -> SLA:
    """Read and validate an SLA file, raising :class:`SLAError` with every problem found.

    The file is data, so it is read with a safe loader (no tags that run code). Before
    that it is composed once more to find keys written twice, which YAML would otherwise
    resolve silently to the last one — a second ``sales:`` block must not erase the first.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SLAError(
            [f"{file}: no such file; check the path, or start from config/sla.example.yaml"]
        ) from None
    except IsADirectoryError:
        raise SLAError([f"{file}: is a folder; give the path of the SLA .yaml file"]) from None
    except UnicodeDecodeError:
        raise SLAError([f"{file}: is not UTF-8 text; save it as UTF-8"]) from None
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
        raise SLAError([f"{file}: cannot be read ({reason}); check its permissions"]) from None
    try:
        duplicates = _duplicate_keys(yaml.compose(text, Loader=yaml.SafeLoader))
        data = yaml.load(text, Loader=DatesAsText)
    except yaml.MarkedYAMLError as error:
        raise SLAError([_syntax_line(file, error)]) from None
    except yaml.YAMLError as error:
        raise SLAError([f"{file}: is not valid YAML ({error})"]) from None
    if duplicates:
        raise SLAError(duplicates, file)
    return parse_sla(data, file)


def _syntax_line(file: Path, error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = error.problem or error.context or "cannot be parsed"
    start = error.context_mark
    if error.problem and error.context and start is not None and start != mark:
        problem += f", {error.context} from line {start.line + 1}, column {start.column + 1}"
    hint = next((fix for key, fix in _YAML_HINTS.items() if key in problem), None)
    hint = hint or "check the indentation and quoting there"
    return f"{file}: YAML syntax error{where}: {problem}; {hint}"


def _duplicate_keys(node: yaml.Node | None, loc: tuple[str | int, ...] = ()) -> list[str]:
    """Keys given twice in one block, as problem lines with both line numbers."""
    problems: list[str] = []
    if isinstance(node, yaml.MappingNode):
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None and key in first_line:
                problems.append(
                    problem_line(
                        (*loc, key),
                        f"given twice (lines {first_line[key]} and "
                        f"{key_node.start_mark.line + 1}); keep one",
                    )
                )
            elif key is not None:
                first_line[key] = key_node.start_mark.line + 1
            problems.extend(_duplicate_keys(value_node, (*loc, key if key is not None else "?")))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems.extend(_duplicate_keys(item, (*loc, index)))
    return problems
