"""No personal data where it does not belong: access and error logs name the route pattern,
never a manage token or an address; `.eml` files are readable by their owner only."""

from __future__ import annotations

import contextlib
import logging
import stat
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from werkzeug.serving import make_server

from app.access_log import PatternLoggingHandler
from app.extensions import csrf
from app.registrations.links import manage_url
from app.worker import run_due_jobs
from tests.builders import register_person
from tests.servers import app_env, serve


def test_eml_files_are_readable_by_their_owner_only(app, event):
    register_person(event, "ada@example.com")
    run_due_jobs()

    files = list(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))

    assert files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_the_access_log_names_the_route_pattern_not_the_token_or_address(app, event, caplog):
    ada = register_person(event, "ada@example.com")
    path = urlsplit(manage_url(ada)).path
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=PatternLoggingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            urllib.request.urlopen(base + path).read()
            with contextlib.suppress(urllib.error.HTTPError):  # 401: no token
                urllib.request.urlopen(base + "/api/v1/people/ada@example.com")
    finally:
        server.shutdown()
        thread.join()

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "GET /r/<token>" in logged
    assert "/api/v1/people/<email>" in logged
    assert path.rsplit("/", 1)[1] not in logged
    assert "ada@example.com" not in logged


def test_an_error_is_logged_by_its_route_without_the_body(app, client, caplog):
    @app.post("/boom/<secret>")
    @csrf.exempt
    def boom(secret: str) -> str:
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    # Migrating the test database ran Alembic's logging set-up, which turns existing loggers off.
    app.logger.disabled = False
    with caplog.at_level(logging.ERROR):
        answer = client.post("/boom/s3cr3t-token", data={"email": "ada@example.com"})

    assert answer.status_code == 500
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Exception on /boom/<secret> [POST]" in logged
    assert "s3cr3t-token" not in logged and "ada@example.com" not in logged


def test_gunicorns_access_log_carries_no_token_or_address(app, event, database_url, tmp_path):
    """The production server's own access lines (gunicorn.conf.py, which gunicorn reads from
    the project folder) show the method and status, never the path that holds the token."""
    ada = register_person(event, "ada@example.com")
    path = urlsplit(manage_url(ada)).path
    log = tmp_path / "gunicorn.log"
    env = app_env(database_url, tmp_path / "served", SECRET_KEY=app.config["SECRET_KEY"])
    with serve("wsgi:app", env, log=log, workers=1, threads=2) as server:
        with urllib.request.urlopen(server.url + path) as page:
            assert page.status == 200
        with contextlib.suppress(urllib.error.HTTPError):  # 401: no token
            urllib.request.urlopen(server.url + "/api/v1/people/ada%40example.com")
    logged = log.read_text(errors="replace")
    assert '"GET" 200' in logged  # gunicorn did write its access line
    assert path.rsplit("/", 1)[1] not in logged
    assert "ada@example.com" not in logged and "ada%40example.com" not in logged
