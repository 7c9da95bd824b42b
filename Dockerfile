# Retention: one image for the web server, the Celery worker, the scheduler and migrations.
# docker-compose.yml shows the set of processes; the CMD is the web server.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 1000 --user-group retention
WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Static files are collected at build time with production storage (hashed, compressed names).
# Production settings refuse to load without these variables; the values below are placeholders
# for this one step only and never reach the running container.
RUN DEBUG=false \
    SECRET_KEY=build-time-placeholder-only-never-used-at-runtime-0123456789 \
    ALLOWED_HOSTS=localhost \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    CELERY_BROKER_URL=memory:// \
    EMAIL_URL=consolemail:// \
    SITE_URL=http://localhost \
    python manage.py collectstatic --noinput \
    && chown -R retention:retention /app/var

USER retention
EXPOSE 8000
CMD ["gunicorn", "retention.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4"]
