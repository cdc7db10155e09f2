"""gunicorn's settings for a web host: `gunicorn -c gunicorn.conf.py wsgi:app` (the Procfile's
and compose.yaml's `web`). Sizes come from the environment so each host can be tuned without
editing this file; see the README's "Production" section for sizing them."""

import os
from typing import Any

from app.metrics import mark_process_dead

# Behind the TLS proxy: it connects here; nothing else should reach this port.
bind = f"{os.environ.get('GUNICORN_BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
# Processes × threads = requests served at once on this host; each process keeps its own
# database pool (DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW connections at most).
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
# A request that takes longer than this is killed (a stuck call, not a slow page).
timeout = 30
# On SIGTERM, requests in flight get this long to finish: a deploy drops no one.
graceful_timeout = 30
keepalive = 5
# Restart each process after this many requests (±jitter), so a slow leak cannot grow.
max_requests = 2000
max_requests_jitter = 200
# Trust X-Forwarded-* only from the proxy; the app's own PROXY_HOPS decides what it believes.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
# The access log names the route pattern through the app's own `request` log line; gunicorn's
# line would carry the raw path (which may hold a manage token), so it shows none.
access_log_format = '%(h)s "%(m)s" %(s)s %(b)s %(M)sms'
errorlog = "-"


def child_exit(server: object, worker: Any) -> None:
    # prometheus-client's multiprocess mode: a finished worker's live gauges stop counting.
    mark_process_dead(worker.pid)
