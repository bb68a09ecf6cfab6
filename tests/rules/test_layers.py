"""The package's layers, read from its source with ast: imports run one way, no cycle, small modules.

Bottom to top: core (records, table definitions, configuration), rules (pure
contract rules), wire (decoding), warehouses (history reads and row landing
too), quality, transforms (Beam composites), pipelines (assembly), commands
(CLI). A module may import its own layer and the layers below it. Two
corners stand aside: servers (local Kafka and PostgreSQL) import nothing of
the package but each other, generators (synthetic data, importers) only
core, rules and wire; only commands import them. Every import counts, at
module level or inside a function.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from support.paths import ROOT

LAYERS = ("core", "rules", "wire", "warehouses", "quality", "transforms", "pipelines", "commands")
CORNERS = {"servers": {"servers"}, "generators": {"core", "rules", "wire", "generators"}}
# Where each subpackage's source lives: the project layout keeps transforms/ and pipelines/ at the top.
SOURCES = {**{name: ROOT / "journeys" / name for name in (*LAYERS, *CORNERS) if name not in
              ("transforms", "pipelines")},
           "transforms": ROOT / "transforms", "pipelines": ROOT / "pipelines"}
MAX_LINES = 400


def allowed(layer: str) -> set[str]:
    if layer in CORNERS:
        return CORNERS[layer]
    below = set(LAYERS[:LAYERS.index(layer) + 1])
    return below | set(CORNERS) if layer == "commands" else below


def modules() -> dict[str, Path]:
    found = {}
    for layer, folder in SOURCES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            name = ".".join(("journeys", layer) + tuple(p for p in parts if p != "__init__"))
            found[name] = path
    return found


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules ``path`` imports (``from journeys.x import y``: journeys.x.y if a module, else journeys.x)."""
    out = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                out.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {m for m in out if m in known}


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in SOURCES else None


MODULES = modules()  # one snapshot of the tree, for every test below
GRAPH = {name: imported(name, path, set(MODULES)) for name, path in MODULES.items()}


def test_every_module_is_in_a_layer():
    assert set(MODULES) == {m for m in GRAPH if layer_of(m)}
    top = sorted(p.name for p in (ROOT / "journeys").glob("*.py"))
    assert top == ["__init__.py"], f"modules outside any layer: {top}"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_only_run_down_the_layers(module):
    layer = layer_of(module)
    upward = sorted(m for m in GRAPH[module] if layer_of(m) not in allowed(layer))
    assert not upward, f"{module} ({layer}) imports {upward}"


def test_no_import_cycle():
    # Tarjan-free: a depth-first search that reports the first back edge as the cycle it closes.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str):
        state[module] = 1
        stack.append(module)
        for target in sorted(GRAPH[module]):
            if state.get(target) == 1:
                pytest.fail("import cycle: " + " -> ".join(stack[stack.index(target):] + [target]))
            if target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_modules_stay_small(module):
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines"
