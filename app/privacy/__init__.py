"""A person's data: exporting it, erasing it on request, and keeping it no longer than set.

`registry.py` is where each package adds what it holds about a person (`add_exporter`,
`add_eraser`, from its own `init_app`); `people.py` answers an export or an erasure over all
of them; `requests.py` is a registrant's own erasure request, confirmed by email;
`retention.py` erases what is past its time; `cli.py` is `flask people …`.
"""

from flask import Blueprint, Flask

# cli_group=None: the package's command group (cli.py) sits at the top level, `flask people …`.
bp = Blueprint("privacy", __name__, cli_group=None)


def init_app(app: Flask) -> None:
    """Give the worker the retention job."""
    from app.privacy import models  # noqa: F401
    from app.privacy.retention import apply_retention
    from app.worker import add_job

    add_job(app, "retention", apply_retention)


from app.privacy import cli, requests  # noqa: E402, F401
