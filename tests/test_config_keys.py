"""Every configuration key the app reads is declared in `Config`, with its default, and listed
in the README's configuration tables; every variable the CONTRACT lists is read by `Config`."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from app.config import Config
from tests.contract import CONFIGURATION_VARIABLES
from tests.servers import APP_SETTINGS

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


# The readers app/config.py reads the environment through (besides os.environ.get itself).
ENV_READERS = {"env", "_flag", "_size"}


def variables_read_in_app() -> dict[str, str]:
    """Each environment variable read anywhere in app/, with the first place that reads it."""
    names: dict[str, str] = {}
    for path in sorted((ROOT / "app").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            environ_get = (
                isinstance(func, ast.Attribute)
                and func.attr == "get"
                and isinstance(func.value, ast.Attribute)
                and func.value.attr == "environ"
            )
            reader = isinstance(func, ast.Name) and func.id in ENV_READERS
            if (environ_get or reader) and (name := _text(node.args[0])) is not None:
                names.setdefault(name, f"{path.relative_to(ROOT)}:{node.lineno}")
    return names


def _tables(heading: str) -> list[set[str]]:
    """The backticked names in the first column of each table under the README's `heading`."""
    text = (ROOT / "README.md").read_text()
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    tables: list[set[str]] = []
    in_table = False
    for line in text[start : end if end != -1 else len(text)].splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        if not in_table:
            tables.append(set())
            in_table = True
        tables[-1].update(re.findall(r"`([A-Z][A-Z0-9_]*)`", line.split("|")[1]))
    return tables


def test_the_walks_find_the_reads_they_are_meant_to_find():
    keys = keys_read_in_app()
    # A constant key, a key passed to a helper, a key assigned before the read, a view's mark.
    for key in (
        "BASE_URL",
        "PAYMENT_HOLD_MINUTES",
        "MAX_STAFF_BODY_BYTES",
        "MAX_UPLOAD_BODY_BYTES",
    ):
        assert key in keys
    variables = variables_read_in_app()
    for name in ("SECRET_KEY", "DATABASE_URL", "MAIL_USE_TLS", "MAX_PUBLIC_BODY_BYTES"):
        assert name in variables
    assert "INSTANCE_PATH" in variables  # read by create_app, before Config


def test_every_key_read_in_app_is_declared_in_config(tmp_path):
    declared = vars(Config(str(tmp_path)))
    missing = {key: where for key, where in keys_read_in_app().items() if key not in declared}
    assert not missing, f"read but not declared in app/config.py Config: {missing}"


def test_every_key_read_in_app_is_in_the_readme_configuration_tables():
    listed = set().union(*_tables("## Configuration"))
    missing = {key: where for key, where in keys_read_in_app().items() if key not in listed}
    assert not missing, f"read but missing from the README's configuration tables: {missing}"


def test_the_readme_lists_exactly_the_environment_variables_the_app_reads():
    variables = variables_read_in_app()
    environment_table = _tables("## Configuration")[0]
    assert set(variables) == environment_table, {
        "read but not in the README": set(variables) - environment_table,
        "in the README but never read": environment_table - set(variables),
    }


def test_every_variable_the_contract_lists_is_read_from_the_environment():
    assert not CONFIGURATION_VARIABLES - set(variables_read_in_app())


def test_servers_for_tests_never_inherit_a_variable_the_app_reads_from_the_shell():
    assert not set(variables_read_in_app()) - APP_SETTINGS
