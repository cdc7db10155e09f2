"""The import graph between the parts of `app/`: no cycle, and dependencies point the way the
style guide says (events is the ground floor; domain packages never import a face).

Every import counts, those inside functions included: a function-level import hides a cycle
from Python's loader, not from the reader.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"
PARTS = {
    path.stem for path in APP.iterdir() if path.suffix == ".py" or (path / "__init__.py").exists()
}
PARTS.discard("__init__")
FACTORY = "app"  # app/__init__.py: the factory, which may import every part.

FACES = {"admin", "api"}
DOMAIN = {"events", "registrations", "followup", "payments", "mail", "auth", "reports", "privacy"}


def _part_of(path: Path) -> str:
    relative = path.relative_to(APP)
    if relative == Path("__init__.py"):
        return FACTORY
    return relative.parts[0].removesuffix(".py")


def _imported_parts(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "app":
                names = [f"app.{alias.name}" for alias in node.names]
            else:
                names = [node.module]
        else:
            continue
        for name in names:
            pieces = name.split(".")
            if pieces[0] != "app":
                continue
            if len(pieces) == 1 or pieces[1] not in PARTS:
                yield FACTORY
            else:
                yield pieces[1]


def package_graph() -> dict[str, dict[str, set[str]]]:
    """part -> the parts it imports -> the files that do so."""
    graph: dict[str, dict[str, set[str]]] = {}
    for path in sorted(APP.rglob("*.py")):
        source = _part_of(path)
        for target in _imported_parts(ast.parse(path.read_text(encoding="utf-8"))):
            if target != source:
                where = str(path.relative_to(APP.parent))
                graph.setdefault(source, {}).setdefault(target, set()).add(where)
    return graph


def _cycle(graph: dict[str, dict[str, set[str]]]) -> list[str] | None:
    """One cycle as a path that ends where it starts, or None."""
    state: dict[str, str] = {}
    trail: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        trail.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == "open":
                return [*trail[trail.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        trail.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def _explain(graph: dict[str, dict[str, set[str]]], path: list[str]) -> str:
    steps = [f"{a} -> {b} ({', '.join(sorted(graph[a][b]))})" for a, b in pairwise(path)]
    return "\n".join(steps)


def test_the_graph_finds_the_parts_it_should() -> None:
    graph = package_graph()
    assert {"events", "registrations", "followup", "mail", "payments", "admin", "api"} <= PARTS
    assert "events" in graph["registrations"], "the walk missed registrations -> events"


def test_the_cycle_finder_sees_a_cycle_made_of_function_level_imports() -> None:
    tree = ast.parse("def later():\n    from app.payments.services import checkout\n")
    assert list(_imported_parts(tree)) == ["payments"]
    graph = {"a": {"b": {"x"}}, "b": {"c": {"y"}}, "c": {"a": {"z"}}}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b": {"x"}}, "b": {}}) is None


def test_no_cycle_between_the_parts_of_app() -> None:
    graph = package_graph()
    found = _cycle(graph)
    assert found is None, "import cycle:\n" + _explain(graph, found or [])


@pytest.mark.parametrize("domain", sorted(DOMAIN))
def test_a_domain_package_never_imports_a_face(domain: str) -> None:
    imports = package_graph().get(domain, {})
    faces = {face: sorted(files) for face, files in imports.items() if face in FACES}
    assert not faces, f"{domain} imports a face: {faces}"


def test_events_is_the_ground_floor() -> None:
    imports = package_graph().get("events", {})
    above = {part: sorted(files) for part, files in imports.items() if part in DOMAIN | FACES}
    assert not above, f"events imports what builds on it: {above}"
