"""The deployment files (compose.yaml, Procfile, Dockerfile, gunicorn.conf.py) parse, and name
only what exists: commands the CLI has, settings gunicorn knows, files the image copies, and
environment keys the README documents."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from gunicorn.config import KNOWN_SETTINGS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
APP_SERVICES = ("migrate", "web", "worker")
# Variables the images of PostgreSQL and Redis read, not the app.
IMAGE_VARIABLES = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    entries = dict(line.split(": ", 1) for line in lines if line.strip())
    assert all(re.fullmatch(r"[a-z]+", name) for name in entries), entries
    return entries


def command_of(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return command if isinstance(command, list) else shlex.split(command)


def test_compose_starts_web_worker_postgres_and_redis(compose):
    services = compose["services"]
    assert {"web", "worker", "postgres", "redis"} <= set(services)
    for name in APP_SERVICES:
        assert services[name]["build"] == "."
    assert (ROOT / "Dockerfile").exists()
    # Web and worker wait for the migration, which waits for PostgreSQL.
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])


def test_the_procfile_and_compose_run_the_same_commands(compose):
    entries = procfile()
    assert set(entries) == {"release", "web", "worker"}
    services = compose["services"]
    assert shlex.split(entries["web"]) == command_of(services["web"])
    assert shlex.split(entries["worker"]) == command_of(services["worker"])
    assert entries["release"] in " ".join(command_of(services["migrate"]))


@pytest.mark.parametrize("process", ["worker", "release"])
def test_the_flask_commands_exist_in_the_cli(runner, process):
    words = shlex.split(procfile()[process])
    assert words[:3] == ["flask", "--app", "wsgi"]
    result = runner.invoke(args=[*words[3:], "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_the_web_command_serves_the_wsgi_app_with_the_gunicorn_settings():
    words = shlex.split(procfile()["web"])
    assert words[0] == "gunicorn"
    config = words[words.index("-c") + 1]
    module, attribute = words[-1].split(":")
    assert re.search(rf"^{attribute} = create_app\(\)", (ROOT / f"{module}.py").read_text(), re.M)
    settings: dict[str, Any] = {}
    exec(compile((ROOT / config).read_text(), config, "exec"), settings)  # noqa: S102
    known = {setting.name for setting in KNOWN_SETTINGS}
    named = {k for k, v in settings.items() if not k.startswith("_") and k not in {"os", "Any"}}
    named -= {"mark_process_dead"}
    assert named <= known, named - known
    assert {"bind", "workers", "threads", "child_exit"} <= named
    assert settings["worker_class"] == "gthread"


def test_every_variable_the_app_services_get_is_documented(compose):
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]*)`", README))
    for name in APP_SERVICES:
        environment = compose["services"][name].get("environment", {})
        missing = set(environment) - documented
        assert not missing, (name, missing)
    images = compose["services"]["postgres"]["environment"]
    assert set(images) <= IMAGE_VARIABLES


def test_every_variable_gunicorn_conf_reads_is_documented():
    read = set(re.findall(r"environ\.get\(['\"]([A-Z_]+)", (ROOT / "gunicorn.conf.py").read_text()))
    assert read, "the walk found no variable"
    assert not read - set(re.findall(r"`([A-Z][A-Z0-9_]*)`", README))


def test_the_dockerfile_copies_only_what_exists_and_runs_the_web():
    text = (ROOT / "Dockerfile").read_text()
    copied = [
        source
        for line in text.splitlines()
        if line.startswith("COPY ")
        for source in line.split()[1:-1]
    ]
    assert copied, "the walk found no COPY"
    for source in copied:
        assert (ROOT / source).exists(), source
    cmd = re.search(r"^CMD (\[.*\])$", text, re.M)
    assert cmd is not None
    assert yaml.safe_load(cmd.group(1)) == shlex.split(procfile()["web"])
    assert re.search(r"^USER \w+", text, re.M), "the image must not run as root"


def test_the_readme_describes_several_hosts():
    production = README[README.index("## Production") :]
    production = production[: production.index("\n## ", 1)]
    for words in ("N web hosts", "M worker", "max_connections", "Expand", "Contract"):
        assert words in production, words
    for key in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "BASE_URL"):
        assert f"`{key}`" in production, key
