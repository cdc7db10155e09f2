"""SECRET_KEY: one process on SQLite may keep a generated key in `instance/`; several processes
(a database server, WEB_CONCURRENCY above 1, a gunicorn with several workers) must be given the
same key, or the app refuses to start with an error naming SECRET_KEY."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from app.config import MissingSecretKey

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = "postgresql+psycopg://app@db.internal:5432/reserve"


@pytest.fixture(autouse=True)
def no_key_in_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SECRET_KEY", "WEB_CONCURRENCY", "GUNICORN_CMD_ARGS", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def config(tmp_path: Path, **values: Any) -> dict[str, Any]:
    return {
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'app.db'}",
        "SECRET_KEY": None,
        **values,
    }


def test_one_process_on_sqlite_keeps_a_generated_key_across_restarts(tmp_path):
    first = create_app(config(tmp_path)).config["SECRET_KEY"]
    again = create_app(config(tmp_path)).config["SECRET_KEY"]

    assert len(first) >= 32
    assert again == first
    assert (tmp_path / "instance" / "secret_key").read_text().strip() == first


def test_a_database_server_requires_secret_key(tmp_path):
    with pytest.raises(MissingSecretKey) as refused:
        create_app(config(tmp_path, SQLALCHEMY_DATABASE_URI=POSTGRES))

    message = str(refused.value)
    assert message.startswith("SECRET_KEY is not set")
    assert "not SQLite" in message
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_web_concurrency_above_one_requires_secret_key(tmp_path, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "4")

    with pytest.raises(MissingSecretKey, match="WEB_CONCURRENCY is 4"):
        create_app(config(tmp_path))

    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    assert create_app(config(tmp_path)).config["SECRET_KEY"]


@pytest.mark.parametrize(
    ("argv", "cmd_args"),
    [
        (["gunicorn", "-w", "3", "wsgi:app"], ""),
        (["/srv/.venv/bin/gunicorn", "--workers=2", "wsgi:app"], ""),
        (["gunicorn", "wsgi:app"], "--bind 0.0.0.0:8000 --workers 5"),
        # Without a count gunicorn.conf.py decides, and it runs two.
        (["gunicorn", "wsgi:app"], ""),
    ],
)
def test_a_gunicorn_with_several_workers_requires_secret_key(tmp_path, monkeypatch, argv, cmd_args):
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.setenv("GUNICORN_CMD_ARGS", cmd_args)

    with pytest.raises(MissingSecretKey, match="gunicorn runs ([0-9]|several) workers"):
        create_app(config(tmp_path))


def test_a_single_gunicorn_worker_on_sqlite_may_generate_its_key(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["gunicorn", "-w", "1", "wsgi:app"])

    assert create_app(config(tmp_path)).config["SECRET_KEY"]


def test_a_given_key_is_used_wherever_the_processes_run(tmp_path, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "8")
    monkeypatch.setenv("SECRET_KEY", "the-shared-key")

    from_the_environment = config(tmp_path, SQLALCHEMY_DATABASE_URI=POSTGRES)
    del from_the_environment["SECRET_KEY"]
    app = create_app(from_the_environment)
    assert app.config["SECRET_KEY"] == "the-shared-key"
    given = create_app(config(tmp_path, SQLALCHEMY_DATABASE_URI=POSTGRES, SECRET_KEY="mine"))
    assert given.config["SECRET_KEY"] == "mine"


def test_the_command_line_stops_with_the_error_naming_secret_key(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "WEB_CONCURRENCY", "GUNICORN_CMD_ARGS"}
    }
    env.update(DATABASE_URL=POSTGRES, INSTANCE_PATH=str(tmp_path / "instance"))
    env["PYTHONPATH"] = str(ROOT)

    started = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "routes"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert started.returncode != 0
    assert "SECRET_KEY is not set" in started.stderr
