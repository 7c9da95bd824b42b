"""WSGI entry point: ``gunicorn retention.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retention.settings")
# A page's statements are cancelled by PostgreSQL after 30 s: gunicorn kills a worker silent for
# its own 30 s timeout, and a query it left behind would run on in the server, holding its locks.
# Every page's SQL takes milliseconds (docs/PERFORMANCE.md); long work runs on the workers.
os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT", "30")

application = get_wsgi_application()
