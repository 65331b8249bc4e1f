"""The house's rules, checked on every run: layers import downward only, the fakes stay out.

``config`` ← ``snapshot`` ← ``connectors`` ← ``audit`` ← ``app`` ← ``run_audit.py``; the fake
CRMs (``sandbox``) are a package of their own that no product layer imports; only the
application layer starts them (``demo`` and ``sandbox``, the embedded default). Imports
are read from the source (module level and inside functions alike), so a lazy import that
reaches upward fails here too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("config", "snapshot", "connectors", "audit", "app", "run_audit")
"""Lowest first: a layer may import its own package and any package before it."""
PRODUCT_FILE_LINES = 400
FUNCTION_LINES = 60


def product_files() -> list[Path]:
    files = [p for layer in LAYERS[:-1] for p in sorted((ROOT / layer).rglob("*.py"))]
    return [*files, ROOT / "run_audit.py"]


def layer_of(path: Path) -> str:
    relative = path.relative_to(ROOT)
    return relative.parts[0] if len(relative.parts) > 1 else "run_audit"


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", product_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_product_module_imports_only_its_own_layer_or_lower(path: Path) -> None:
    layer = layer_of(path)
    allowed = set(LAYERS[: LAYERS.index(layer) + 1])
    if layer in ("app", "run_audit"):
        allowed.add("sandbox")
    ours = imported_packages(path) & {*LAYERS, "sandbox", "tests", "benchmarks"}
    assert ours <= allowed, f"{path.relative_to(ROOT)} ({layer}) imports {sorted(ours - allowed)}"


def test_no_fake_crm_inside_the_product() -> None:
    assert not (ROOT / "connectors" / "sandbox").exists()
    assert (ROOT / "sandbox" / "hubspot_server.py").exists()


@pytest.mark.parametrize("path", product_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_product_module_stays_small(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count("\n") <= PRODUCT_FILE_LINES, f"{path.relative_to(ROOT)}: split it"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            assert length <= FUNCTION_LINES, f"{path.relative_to(ROOT)}:{node.name}: {length}"
