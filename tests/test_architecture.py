"""The layout of the package holds: layers import only downwards, no cycles, no private names
across modules, no module or class grown past its size without saying why.

The layers, lowest first (docs/architecture.md):

    base -> language -> check -> compile -> codegen -> tools, sim -> live, fleet -> cli

A module may import its own layer and any lower one, never a higher one; `tools` and `sim`
are peers that do not import each other. The graph is read from the source with `ast`, every
import statement counted, those inside functions too (an import deferred for speed is still a
dependency).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "hpdsl"

LAYERS = {
    "base": 0,
    "language": 1,
    "check": 2,
    "compile": 3,
    "codegen": 4,
    "tools": 5,
    "sim": 5,
    "live": 6,
    "fleet": 6,
    "cli": 7,
}
TOP_LEVEL = {"__init__", "__main__"}  # the only modules outside a layer's package

MODULE_LINES = 900
CLASS_LINES = 500
WHY_MARKER = "Size:"  # a docstring paragraph that starts with this says why a module or class is long


def modules() -> dict[str, Path]:
    """`hpdsl.x.y` -> its file, for every module of the package."""
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(name: str, path: Path) -> Iterator[tuple[str, str, int]]:
    """(imported module, imported name or "", line) of every hpdsl import in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("hpdsl"):
                    yield alias.name, "", node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base])
            if not base.startswith("hpdsl"):
                continue
            for alias in node.names:
                yield base, alias.name, node.lineno


def target_module(module: str, name: str, known: dict[str, Path]) -> str:
    """The module an import reaches: `from hpdsl.base import source` reaches hpdsl.base.source."""
    candidate = f"{module}.{name}" if name else module
    return candidate if candidate in known else module


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in TOP_LEVEL:
        return None
    return parts[1]


def graph() -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for module, imported, _ in imports(name, path):
            target = target_module(module, imported, known)
            if target != name and target in known:
                edges[name].add(target)
    return edges


def test_every_module_sits_in_a_layer() -> None:
    strays = [
        name
        for name in modules()
        if name != "hpdsl" and layer_of(name) is None and name.split(".")[-1] not in TOP_LEVEL
    ]
    assert strays == []
    assert {layer_of(name) for name in modules()} - {None} == set(LAYERS)


def test_layers_import_only_downwards() -> None:
    wrong: list[str] = []
    for name, targets in graph().items():
        here = layer_of(name)
        if here is None:
            continue
        for target in targets:
            there = layer_of(target)
            if there is None or there == here:
                continue
            if LAYERS[there] > LAYERS[here] or (LAYERS[there] == LAYERS[here]):
                wrong.append(f"{name} ({here}) imports {target} ({there})")
    assert wrong == []


def test_no_import_cycle() -> None:
    from hpdsl.compile.common import strongly_connected  # the lowering's Tarjan, on module numbers

    edges = graph()
    names = sorted(edges)
    number = {name: index for index, name in enumerate(names)}
    components = strongly_connected(
        list(range(len(names))), {number[n]: {number[t] for t in edges[n]} for n in names}
    )
    # Any component of more than one module is a cycle; a package's __init__ that re-exports its
    # modules is not a cycle of design: leave those out.
    cycles = [sorted(names[i] for i in c) for c in components if len(c) > 1]
    real = [c for c in cycles if not all(_is_reexport(a, b) for a in c for b in c if a != b)]
    assert real == []


def _is_reexport(a: str, b: str) -> bool:
    return a.startswith(b + ".") or b.startswith(a + ".")


def test_no_module_imports_another_modules_private_names() -> None:
    known = modules()
    found: list[str] = []
    for name, path in known.items():
        for module, imported, line in imports(name, path):
            if imported.startswith("_") and not imported.startswith("__"):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {imported} from {module}")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("hpdsl")
            for alias in node.names
            if f"{node.module}.{alias.name}" in known
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {node.value.id}.{node.attr}")
    assert found == []


def _why(docstring: str | None) -> bool:
    return docstring is not None and any(p.strip().startswith(WHY_MARKER) for p in docstring.split("\n\n"))


def sizes() -> list[tuple[int, str]]:
    return sorted(
        ((len(path.read_text(encoding="utf-8").splitlines()), name) for name, path in modules().items()),
        reverse=True,
    )


def test_no_module_or_class_is_too_long_without_saying_why() -> None:
    long: list[str] = []
    for name, path in modules().items():
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        lines = len(text.splitlines())
        if lines > MODULE_LINES and not _why(ast.get_docstring(tree)):
            long.append(f"{name}: {lines} lines")
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                span = node.end_lineno - node.lineno + 1
                if span > CLASS_LINES and not _why(ast.get_docstring(node)):
                    long.append(f"{name}.{node.name}: {span} lines")
    assert long == []


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_each_layer_says_what_it_owns_and_may_import(layer: str) -> None:
    docstring = ast.get_docstring(ast.parse((PACKAGE / layer / "__init__.py").read_text(encoding="utf-8")))
    assert docstring and "May import:" in docstring, layer


if __name__ == "__main__":
    for count, name in sizes():
        print(f"{count:6d}  {name}")
