"""Every configuration key the app reads is declared in `Config`, with its default, and listed
in the README's configuration tables; every variable the CONTRACT lists is read by `Config`."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from app.config import Config
from tests.contract import CONFIGURATION_VARIABLES

ROOT = Path(__file__).resolve().parent.parent


def _is_config(node: ast.AST) -> bool:
    """`config` or `<anything>.config` (current_app.config, app.config)."""
    return (isinstance(node, ast.Name) and node.id == "config") or (
        isinstance(node, ast.Attribute) and node.attr == "config"
    )


def _key_of_read(node: ast.AST) -> ast.expr | None:
    """The key of `config[key]`, `config.get(key, …)` or `config.setdefault(key, …)`."""
    if isinstance(node, ast.Subscript) and _is_config(node.value):
        return node.slice
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"get", "setdefault", "pop"}
        and _is_config(node.func.value)
        and node.args
    ):
        return node.args[0]
    return None


def _text(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _values_of(name: str, function: ast.FunctionDef, tree: ast.Module) -> Iterator[str]:
    """The strings a variable used as a key can hold: the constants assigned to it in its
    function, or, for a parameter, the constants passed for it wherever the module calls
    the function (`_hold_until(…, "PAYMENT_HOLD_MINUTES", …)`)."""
    for node in ast.walk(function):
        if not isinstance(node, ast.Assign) or (value := _text(node.value)) is None:
            continue
        if any(isinstance(target, ast.Name) and target.id == name for target in node.targets):
            yield value
    parameters = [arg.arg for arg in function.args.args]
    if name not in parameters:
        return
    position = parameters.index(name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == function.name:
            passed = [kw.value for kw in node.keywords if kw.arg == name]
            if position < len(node.args):
                passed.append(node.args[position])
            yield from (value for arg in passed if (value := _text(arg)) is not None)


def keys_read_in_app() -> dict[str, str]:
    """Each key read anywhere in app/, with the first place that reads it."""
    keys: dict[str, str] = {}
    unknown: list[str] = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        where = path.relative_to(ROOT)
        functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
        for node in ast.walk(tree):
            # `body_limit("MAX_UPLOAD_BODY_BYTES")` names the key the view's limit is read from.
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "body_limit":
                keys.setdefault(_text(node.args[0]) or "?", f"{where}:{node.lineno}")
            key = _key_of_read(node)
            if key is None:
                continue
            if (text := _text(key)) is not None:
                keys.setdefault(text, f"{where}:{node.lineno}")
                continue
            values: list[str] = []
            if isinstance(key, ast.Name):
                enclosing = [
                    f for f in functions if f.lineno <= node.lineno <= (f.end_lineno or f.lineno)
                ]
                if enclosing:
                    values = list(_values_of(key.id, enclosing[-1], tree))
            if not values:
                unknown.append(f"{where}:{node.lineno}")
            for value in values:
                keys.setdefault(value, f"{where}:{node.lineno}")
    assert not unknown, f"config read with a key this test cannot tell: {unknown}"
    return keys


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else len(text)]


def _names_in_tables(section: str) -> set[str]:
    """The backticked names in the first column of each table row."""
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", first))
    return names


def test_the_walk_finds_the_reads_it_is_meant_to_find():
    keys = keys_read_in_app()
    # A constant key, a key passed to a helper, a key assigned before the read, a view's mark.
    for key in (
        "BASE_URL",
        "PAYMENT_HOLD_MINUTES",
        "MAX_STAFF_BODY_BYTES",
        "MAX_UPLOAD_BODY_BYTES",
    ):
        assert key in keys


def test_every_key_read_in_app_is_declared_in_config(tmp_path):
    declared = vars(Config(str(tmp_path)))
    missing = {key: where for key, where in keys_read_in_app().items() if key not in declared}
    assert not missing, f"read but not declared in app/config.py Config: {missing}"


def test_every_key_read_in_app_is_in_the_readme_configuration_tables():
    readme = _names_in_tables(_section((ROOT / "README.md").read_text(), "## Configuration"))
    missing = {key: where for key, where in keys_read_in_app().items() if key not in readme}
    assert not missing, f"read but missing from the README's configuration tables: {missing}"


def test_every_variable_the_contract_lists_is_read_by_config_and_in_the_readme():
    readme = _names_in_tables(_section((ROOT / "README.md").read_text(), "## Configuration"))
    config_source = (ROOT / "app" / "config.py").read_text()
    assert not CONFIGURATION_VARIABLES - readme, CONFIGURATION_VARIABLES - readme
    unread = {name for name in CONFIGURATION_VARIABLES if f'"{name}"' not in config_source}
    assert not unread, f"in the CONTRACT but never read from the environment: {unread}"
