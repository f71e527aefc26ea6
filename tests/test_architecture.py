"""The house keeps its shape: no import circles anywhere in the product, no imports hidden in strings.

import-linter's contracts (``make lint``) hold the floors of ``watcher`` and the walls between the
packages; this test adds what a layers contract cannot see: a circle inside one floor.
"""

from __future__ import annotations

import re
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("watcher", "crawlers", "takedown", "dashboard", "lab")


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), i.e. every import circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return out


def test_no_import_circles_in_the_product() -> None:
    graph = grimp.build_graph(*PRODUCT, include_external_packages=False)
    assert _cycles(graph) == []


def test_no_module_is_named_in_a_string() -> None:
    """Registries hold function references: a rename must fail at import, not at run time."""
    hidden = re.compile(r"""["'](?:watcher|crawlers|takedown|dashboard)(?:\.\w+)+:\w+["']""")
    offenders = []
    for package in ("watcher", "takedown", "dashboard"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in hidden.finditer(text)]
            if "importlib.import_module" in text or "__import__(" in text:
                offenders.append(f"{path.relative_to(ROOT)}: imports a module by name")
    assert offenders == []
