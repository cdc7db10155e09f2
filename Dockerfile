# One image for every process of the system: the web (gunicorn), the worker and the
# migrations, as compose.yaml runs them. Build: `docker build -t reserve .`
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv/reserve

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install -e .

COPY wsgi.py gunicorn.conf.py ./
COPY migrations ./migrations
COPY templates ./templates

# No root at run time; the instance folder and the metrics directory are the only places
# written to (the database, Redis and SMTP hold everything that matters).
RUN useradd --system --uid 10001 --home-dir /srv/reserve reserve \
    && mkdir -p instance /run/reserve-metrics \
    && chown reserve instance /run/reserve-metrics
USER reserve

EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
