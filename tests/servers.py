"""A real gunicorn server on a free loopback port, for tests and benchmarks: start, wait, stop.

    with serve("wsgi:app", app_env(database_url, instance), log=tmp_path / "gunicorn.log") as s:
        requests.get(s.url + "/healthz")

The test opens the listening socket itself (port 0, so the kernel picks a free port) and hands
it to gunicorn as `fd://N`: no window in which another process could take the port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from tests.contract import CONFIGURATION_VARIABLES

ROOT = Path(__file__).resolve().parent.parent

# Settings the app reads from the environment: a server gets only those its caller gives, never
# whatever the developer's shell happens to export (a REDIS_URL, a real SMTP server, Stripe keys).
# The contract's variables and the app's own; tests/test_config_keys.py checks none is missing.
APP_SETTINGS = frozenset(
    {
        *CONFIGURATION_VARIABLES,
        "INSTANCE_PATH",
        "PROXY_HOPS",
        "CONSENT_TEXT",
        "LANDING_RATE_LIMIT",
        "FORM_MIN_FILL_SECONDS",
        "EMBED_ORIGINS",
        "MANAGE_LINK_DAYS_AFTER_EVENT",
        "VERIFICATION_HOURS",
        "POST_EVENT_DELAY_MINUTES",
        "POST_EVENT_FALLBACK_HOURS",
        "IDEMPOTENCY_KEY_HOURS",
        "WEB_CONCURRENCY",
        "GUNICORN_CMD_ARGS",
        "ERASURE_LINK_HOURS",
        "RETAIN_REGISTRATIONS_DAYS",
        "RETAIN_UNCONFIRMED_DAYS",
        "RETAIN_OUTBOX_BODY_DAYS",
        "RETAIN_DELIVERY_LOG_DAYS",
        "SESSION_IDLE_HOURS",
        "STAFF_INVITATION_HOURS",
        "PASSWORD_RESET_HOURS",
        "MAX_PUBLIC_BODY_BYTES",
        "MAX_STAFF_BODY_BYTES",
        "WEBHOOKS_ALLOW_PRIVATE",
        "OUTBOX_BATCH_SIZE",
        "OUTBOX_LEASE_SECONDS",
        "MAIL_RETRY_BASE_SECONDS",
        "ZOOM_ACCOUNT_ID",
        "ZOOM_CLIENT_ID",
        "ZOOM_CLIENT_SECRET",
        "ZOOM_WEBHOOK_SECRET_TOKEN",
        "ZOOM_API_BASE",
        "ZOOM_OAUTH_BASE",
        "GOTO_CLIENT_ID",
        "GOTO_CLIENT_SECRET",
        "GOTO_API_BASE",
        "GOTO_OAUTH_BASE",
        "GOTO_REFRESH_TOKEN",
        "GOTO_ORGANIZER_KEY",
        "PLATFORM_PULL_AFTER_END_MINUTES",
        "METRICS_TOKEN",
        "DATABASE_POOL_SIZE",
        "DATABASE_MAX_OVERFLOW",
        "LOG_FORMAT",
        "PROMETHEUS_MULTIPROC_DIR",
    }
)


def app_env(database_url: str, instance: Path, **settings: str) -> dict[str, str]:
    """The environment for serving the app on `database_url` with its files under `instance`."""
    env = {key: value for key, value in os.environ.items() if key not in APP_SETTINGS}
    env.update(
        DATABASE_URL=database_url,
        INSTANCE_PATH=str(instance),
        SECRET_KEY="server-test-secret-key",
        RATELIMIT_ENABLED="0",
        # Test clients post forms in the instant they load them.
        FORM_MIN_FILL_SECONDS="0",
        PYTHONUNBUFFERED="1",
    )
    env.update(settings)
    return env


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self, last: int = 4000) -> str:
        """The end of gunicorn's output (its error log and tracebacks), for failure messages."""
        try:
            return self.log_path.read_text(errors="replace")[-last:]
        except FileNotFoundError:
            return ""


@contextmanager
def serve(
    app: str,
    env: Mapping[str, str],
    *,
    log: Path,
    workers: int = 4,
    threads: int = 4,
    ready_path: str = "/healthz",
    start_timeout: float = 30.0,
) -> Iterator[Server]:
    """Serve the WSGI `app` ("module:name") with gunicorn until the block ends.

    Workers are gthread workers (`threads` requests each at once, keep-alive connections).
    The block starts once `ready_path` answers 200; the whole process group is killed after.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    # A deep backlog: a test may open dozens of connections in the same instant.
    listener.listen(1024)
    host, port = listener.getsockname()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"fd://{listener.fileno()}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        # The app is imported once and forked, so every worker is ready when the first is
        # (safe: creating the app opens no database connection).
        "--preload",
        "--graceful-timeout",
        "5",
        # Servers started side by side must not share gunicorn's one default control socket.
        "--no-control-socket",
        "--error-logfile",
        "-",
        app,
    ]
    log.parent.mkdir(parents=True, exist_ok=True)
    with listener, log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(env),
            stdout=output,
            stderr=subprocess.STDOUT,
            pass_fds=[listener.fileno()],
            # Its own process group, so the teardown reaches the master and every worker.
            start_new_session=True,
        )
    server = Server(url=f"http://{host}:{port}", process=process, log_path=log)
    try:
        _wait_until_ready(server, ready_path, start_timeout)
        yield server
    finally:
        _stop(process)


def _wait_until_ready(server: Server, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited with {server.process.returncode} before answering "
                f"{path}:\n{server.log()}"
            )
        try:
            with urllib.request.urlopen(server.url + path, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"gunicorn did not answer {path} within {timeout} s:\n{server.log()}"
            )
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    # start_new_session made the master the leader of its own group: the group id is its pid.
    # By now every request has been answered, so nothing is worth a long graceful wait: a
    # second for a clean exit, then SIGKILL for whatever of the group is left. The master is
    # reaped only at the end, so its pid (the group id) cannot pass to another process first.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline and not _has_exited(process):
        time.sleep(0.05)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _has_exited(process: subprocess.Popen[bytes]) -> bool:
    if process.returncode is not None:
        return True
    flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
    try:
        return os.waitid(os.P_PID, process.pid, flags) is not None
    except ChildProcessError:
        return True
