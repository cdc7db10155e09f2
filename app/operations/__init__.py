"""The operator's view: request ids and structured logs (`logs.py`), request metrics
(`requests.py`), `GET /metrics` with the figures read from the database at each scrape
(`exposition.py`, `figures.py`), and what the console's operations page shows and retries
(`backlog.py`)."""

from flask import Blueprint, Flask

bp = Blueprint("operations", __name__)


def init_app(app: Flask) -> None:
    """Called first in the factory: the request id and the clock start before any other hook
    (the input door may refuse a request, and the refusal is counted and logged too)."""
    from app.operations import counting, exposition, logs, requests  # noqa: F401 (routes)

    logs.init_app(app)
    requests.init_app(app)
    counting.connect()
    app.register_blueprint(bp)
