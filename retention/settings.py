"""
Settings for Retention, read from the environment in this one file.

With nothing set, the embedded default serves: SQLite (WAL) and a file-system Celery broker
under ``var/``, email written as files to ``var/mail/``. Production sets ``DEBUG=false`` and then
must provide the settings listed in ``REQUIRED_IN_PRODUCTION``; a missing one stops the process at
start with a message naming it.
"""

import datetime
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)
(VAR_DIR / "staticfiles").mkdir(exist_ok=True)

DEBUG = env.bool("DEBUG", default=True)

REQUIRED_IN_PRODUCTION = (
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "EMAIL_URL",
    "SITE_URL",
    "DEFAULT_FROM_EMAIL",
)
if not DEBUG:
    missing = [name for name in REQUIRED_IN_PRODUCTION if not env.str(name, default="")]
    if missing:
        raise ImproperlyConfigured(
            "Missing required production setting(s): "
            + ", ".join(missing)
            + ". Set them in the environment (see README.md, Configuration), "
            "or set DEBUG=true to run the embedded development default."
        )

# The fallback key is only ever used with DEBUG on (see the check above).
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-embedded-default-key-for-local-use-only")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "axes",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "retention",
    "customers",
    "touchpoints",
    "surveys",
    "retention.api",
    "retention.webhooks",
    "retention.feeds",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A NUL character in the address or the query string answers 400 (retention/security.py).
    "retention.security.NulRefusingMiddleware",
    # Who is asking and from where, for the audit log's entries (customers/audit.py).
    "customers.audit.AuditContextMiddleware",
    # Every page needs a login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # The signed-in user's team ids, read once a request for the visibility rule.
    "customers.middleware.VisibleTeamsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "retention.security.SessionIdleMiddleware",
    "retention.security.PermissionsPolicyMiddleware",
    # Last: a locked-out client gets the lockout page (429) instead of the login form's answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "retention.urls"
WSGI_APPLICATION = "retention.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "retention.context_processors.navigation",
                "retention.context_processors.brand",
            ],
            "builtins": ["retention.templatetags.people", "retention.templatetags.display"],
        },
    },
]

# Database: PostgreSQL in production, SQLite in WAL mode as the embedded default.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'retention.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    # Connections are kept for a minute and checked before a request reuses one, so a database
    # restarted under load costs no request an error once it answers again (docs/RELIABILITY.md).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Seconds a PostgreSQL statement may run before the server cancels it; 0: no limit. The web sets
# its own bound (retention/wsgi.py); workers, the scheduler and commands run scans, imports and
# exports over the whole book and have none unless this says so.
DATABASE_STATEMENT_TIMEOUT = env.int("DATABASE_STATEMENT_TIMEOUT", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    options = DATABASES["default"].setdefault("OPTIONS", {})
    # No JIT compilation: it pays off for long analytical queries, not for these short ones, and
    # a plan estimated as large (a search's export) spent 40–620 ms compiling to run in 110–200 ms
    # (docs/PERFORMANCE.md). Options given in DATABASE_URL win.
    options.setdefault("options", "-c jit=off" + (
        f" -c statement_timeout={DATABASE_STATEMENT_TIMEOUT}s" if DATABASE_STATEMENT_TIMEOUT else ""))
    # A server that takes the connection but never answers (frozen, or a black-holed address)
    # fails the request after this many seconds instead of holding a web thread for ever; a
    # connection on a LAN takes milliseconds, so 5 s is room for a busy server, not a wait.
    options.setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login lockout (django-axes): after LOGIN_FAILURE_LIMIT failed logins for one username, or from
# one client address, that username or address is locked out for LOGIN_LOCKOUT_MINUTES. Admins
# unlock early by deleting the access attempts in the admin (Axes › Access attempts).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "retention.security.client_address"
AXES_VERBOSE = False
# How many proxies in front of the app append to X-Forwarded-For (the client address of rate limits
# and lockouts is the one the outermost trusted proxy saw); 0: the connection's own address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Logins, password resets and exports answer at most this many requests a minute per client.
LOGIN_RATE_LIMIT_PER_MINUTE = env.int("LOGIN_RATE_LIMIT_PER_MINUTE", default=30)
EXPORT_RATE_LIMIT_PER_MINUTE = env.int("EXPORT_RATE_LIMIT_PER_MINUTE", default=10)
PASSWORD_RESET_TIMEOUT = 60 * 60  # a reset link works for an hour
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # the dashboard for managers, Today for account managers
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
# How dates, times and numbers read: retention/formats/en/formats.py.
FORMAT_MODULE_PATH = ["retention.formats"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Widgets render through the project's templates, so templates/ can override one of Django's (the
# admin's split date and time, labelled: templates/admin/widgets/split_datetime.html).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email: files under var/mail/ by default, SMTP in production (EMAIL_URL).
vars().update(env.email_url("EMAIL_URL", default=f"filemail:///{VAR_DIR / 'mail'}"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Retention <retention@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)

# DKIM: every message is signed when a private key is configured (touchpoints/messaging/dkim.py);
# ``manage.py dkim_setup`` makes one. DKIM_PRIVATE_KEY is the PEM itself or a file's path; without
# it, the key that dkim_setup wrote for DKIM_SELECTOR under VAR_DIR/dkim/ serves, if there is one.
# DKIM_DOMAIN defaults to the domain of DEFAULT_FROM_EMAIL, which it must match (retention/checks.py).
DKIM_SELECTOR = env.str("DKIM_SELECTOR", default="retention")
DKIM_KEY_DIR = VAR_DIR / "dkim"
DKIM_PRIVATE_KEY = env.str("DKIM_PRIVATE_KEY", default="") or (
    str(DKIM_KEY_DIR / f"{DKIM_SELECTOR}.pem") if (DKIM_KEY_DIR / f"{DKIM_SELECTOR}.pem").is_file() else ""
)
DKIM_DOMAIN = env.str("DKIM_DOMAIN", default="")

# Celery: Redis in production; a file-system broker under var/ as the embedded default, so the
# web process, the worker and the scheduler share a queue with nothing else installed.
# The file transport ignores the host, but kombu warns at every connection to a URL without one
# ("No hostname was supplied"), so the default names one.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # Tasks are acknowledged late; a task not acknowledged within this many seconds is
    # delivered again, so every task must finish (or retry) well inside it. A Redis that takes
    # the connection and answers nothing (frozen) fails a publish or /healthz's check within the
    # socket timeouts instead of holding the request: the outbox's sweeper queues it later.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 3,
                                       "socket_timeout": 5}
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="retention")
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Production behind a TLS-terminating proxy.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy: scripts and styles from the app's own static files only. No inline
# script or event handler anywhere (retention/tests/test_no_inline_script.py); htmx never evals
# (its config in base.html). The public pages' brand colour is one <style> with the request's nonce;
# the pages that show an email as it will arrive allow its inline styles inside their sandboxed
# frame (``retention.security.shows_email``).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# A signed-in session ends after this many minutes without a request (retention/security.py).
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=8 * 60)

# Uploads: CSV imports are streamed from a temporary file, never held whole in memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 1 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# The installation's one currency for purchases and lifetime value (ISO 4217 code).
CURRENCY = env.str("CURRENCY", default="EUR")
# Customers worth a physical card on birthdays and anniversaries (besides those tagged "vip"):
# lifetime value of at least this much, in CURRENCY.
CARD_WORTHY_VALUE = env.int("CARD_WORTHY_VALUE", default=10_000)
# The outbox's first retry after a temporary SMTP failure waits about this many seconds, doubling
# with each attempt up to 15 minutes (tests set it low to see retries happen). A message is retried
# so until its latest sensible send time (below); one without (meeting notes) for OUTBOX_GIVE_UP_DAYS.
OUTBOX_RETRY_BASE_SECONDS = env.float("OUTBOX_RETRY_BASE_SECONDS", default=30.0)
OUTBOX_GIVE_UP_DAYS = env.float("OUTBOX_GIVE_UP_DAYS", default=3.0)
# The most automated messages one address receives on one local day (touchpoints/messaging/cap.py).
OUTBOX_DAILY_CAP = env.int("OUTBOX_DAILY_CAP", default=1)
if OUTBOX_DAILY_CAP < 1:
    raise ImproperlyConfigured(f"OUTBOX_DAILY_CAP must be 1 or more, not {OUTBOX_DAILY_CAP}.")
# Days a message may still go out after it was due, per program ("checkin=5,post_purchase=2"); the
# rest keep the defaults of touchpoints/messaging/policy.py. Dated greetings only go out on their day.
def _days_per_program(name):
    """``program=days,…`` from the environment as ``{program: days}``; a malformed entry stops the start."""
    parsed = {}
    for item in filter(None, (part.strip() for part in env.str(name, default="").split(","))):
        key, _, days = item.partition("=")
        try:
            parsed[key.strip()] = float(days)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {item!r} is not program=days (e.g. checkin=3)") from None
        if parsed[key.strip()] < 0:
            raise ImproperlyConfigured(f"{name}: {item!r}: the days cannot be negative")
    return parsed


OUTBOX_GRACE_DAYS = _days_per_program("OUTBOX_GRACE_DAYS")
# A message claimed for sending this long ago has lost its worker (killed mid-send): the sweeper,
# every minute, puts it back in line. Keep it above a slow SMTP exchange (EMAIL_TIMEOUT per step).
OUTBOX_SENDING_LEASE_SECONDS = env.int("OUTBOX_SENDING_LEASE_SECONDS", default=60)
# The mail server's state: its first failure logs a WARNING, failing this long an ERROR.
OUTBOX_SMTP_ERROR_AFTER_SECONDS = env.int("OUTBOX_SMTP_ERROR_AFTER_SECONDS", default=5 * 60)
# Lifetime value: the share of customers still buying one year who still buy the next, used to
# project a customer's value over 1, 2 and 10 years (see docs/LIFETIME_VALUE.md).
LTV_RETENTION_RATE = env.float("LTV_RETENTION_RATE", default=0.85)
if not 0 <= LTV_RETENTION_RATE <= 1:
    raise ImproperlyConfigured(
        f"LTV_RETENTION_RATE must be between 0 and 1 (a share), not {LTV_RETENTION_RATE}."
    )
# Customer imports: the most an uploaded CSV may weigh; uploads are kept here until imported.
CUSTOMER_IMPORT_MAX_BYTES = env.int("CUSTOMER_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
# Confirmed imports of more rows than this run on a worker instead of inside the web request.
CUSTOMER_IMPORT_INLINE_ROWS = env.int("CUSTOMER_IMPORT_INLINE_ROWS", default=2000)
IMPORTS_DIR = VAR_DIR / "imports"

# The cache: shared by every process, for the public pages' rate limits. Redis from CACHE_URL, or
# the broker's Redis; otherwise files under VAR_DIR/cache, shared by the processes of one machine.
CACHE_URL = env.str(
    "CACHE_URL", default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis://") else ""
)
if CACHE_URL.startswith(("redis://", "rediss://")):
    # A Redis that is down or frozen costs a request at most a second (the rate limits then let
    # it through: retention/ratelimit.py), never a hung thread.
    CACHES = {"default": {"BACKEND": "retention.cache.RedisCache", "LOCATION": CACHE_URL,
                          "KEY_PREFIX": "retention", "TIMEOUT": 300,
                          "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache"), "TIMEOUT": 300}}

# Surveys: a contact is never surveyed twice within this many days, across campaigns and triggers.
SURVEY_FATIGUE_DAYS = env.int("SURVEY_FATIGUE_DAYS", default=90)
# The public survey and unsubscribe pages answer at most this many requests a minute per client.
PUBLIC_RATE_LIMIT_PER_MINUTE = env.int("PUBLIC_RATE_LIMIT_PER_MINUTE", default=120)
# The installation's name and colour (#rrggbb, checked by retention.checks) on the pages customers
# see (survey, unsubscribe) and in the emails' header.
SITE_NAME = env.str("SITE_NAME", default="")
BRAND_COLOR = env.str("BRAND_COLOR", default="#0b5ed7")

# Webhooks (docs/WEBHOOKS.md): endpoints over plain http, or on private, loopback or link-local
# addresses, are refused unless allowed here (for development and tests; never in production).
WEBHOOKS_ALLOW_HTTP = env.bool("WEBHOOKS_ALLOW_HTTP", default=False)
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=False)

# Tests that need PostgreSQL, Redis or a browser fail instead of skipping when this is set.
REQUIRE_SERVICES = env.bool("REQUIRE_SERVICES", default=False)

# The REST API (retention/api/): per-user tokens, JSON only (no browsable pages: the docs page at
# /api/docs/ is the browsable view), cursor pagination, and a rate limit per token.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "retention.api.authentication.TokenAuthentication",
        # A signed-in browser (a script of the site's own pages): CSRF-checked by DRF.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["retention.api.throttling.PerTokenThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "retention.api.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
}
# Requests a minute per API token (or signed-in user), across all workers.
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=600)
SPECTACULAR_SETTINGS = {
    "TITLE": "Retention API",
    "DESCRIPTION": (
        "The customer book, touchpoints, promises, complaints, survey answers and health scores, "
        "as the signed-in user sees them in the browser. Authenticate with a token from your "
        "profile page: `Authorization: Bearer <token>`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "retention.api.schema.add_error_responses"],
    "ENUM_NAME_OVERRIDES": {
        "CustomerStatusEnum": "customers.models.Customer.Status",
        "HealthBandEnum": "customers.models.HealthBand",
        "PromiseStatusEnum": "touchpoints.models.Promise.Status",
        "ComplaintStatusEnum": "touchpoints.models.Complaint.Status",
        "PromiseClosingEnum": [("kept", "Kept"), ("exceeded", "Exceeded"), ("broken", "Broken")],
    },
}
