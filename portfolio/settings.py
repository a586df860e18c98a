"""Cartera settings: every value comes from the environment (the only module that reads it).

Zero-setup defaults give the demo: SQLite, no broker (tasks run in-process), console e-mail.
Production sets DEBUG off, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, REDIS_URL and EMAIL_URL.
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from core.logs import init_sentry

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Development values (`make demo` writes DEBUG and a SECRET_KEY there, git-ignored); the environment
# wins over the file, a missing file is not an error, and ENV_FILE="" reads none (the test settings).
ENV_FILE = env.str("ENV_FILE", default=str(BASE_DIR / ".env"))
if ENV_FILE:
    environ.Env.read_env(ENV_FILE)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "core.admin_site.CarteraAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "django_countries",
    "django_celery_beat",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "ninja",
    "core",
    "accounts",
    "clients",
    "segmentation",
    "icp",
    "imports",
    "audit",
    "campaigns",
    "privacy",
    "exports",
    "api",
    "demo",
    "webhooks",
]

MIDDLEWARE = [
    # First: one log line per request (core.logs), its duration covering every other middleware.
    "core.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "accounts.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.IdleSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Deny by default: every view needs a login unless marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Two-factor login: a session that must still set up or enter its code reaches nothing else.
    "accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Work that could not be queued (Redis down) is announced: it waits and starts once Redis is back.
    "core.middleware.QueueDownMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A merged client's pages lead to the survivor's (only after the view answered 404).
    "clients.middleware.MergedClientRedirectMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portfolio.urls"
WSGI_APPLICATION = "portfolio.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
# Django's form renderer, with its plain inputs and selects written from Python (core/renderers.py).
FORM_RENDERER = "core.renderers.FormRenderer"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the in-process background work and web requests read while one writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE", "timeout": 20}
    )
    # The purchases' covering index (clients.Purchase, INCLUDE amount) is for PostgreSQL's index-only
    # scans; SQLite builds it without the included column, which is all the demo needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
# A PostgreSQL read replica, optional: the client list, its exports and the segment counts read it
# (core.routers); writes, every other read and the reads right after a write stay on "default".
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
# Seconds a browser reads only the primary after a write of its own: longer than the replica's lag.
REPLICA_PIN_SECONDS = env.int("REPLICA_PIN_SECONDS", default=10)
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = env.db_url_config(DATABASE_REPLICA_URL)
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASE_ROUTERS = ["core.routers.ReplicaRouter"]
    MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "core.middleware.PrimaryPinMiddleware")
# PostgreSQL's JIT compiles every query whose estimated cost passes jit_above_cost (100,000), and
# a page's grouped query with a correlated look per row is estimated far above it whatever it
# reads: the renewals page's totals over 48,000 contracts spent 0.50 s of their 0.53 s compiling
# at a million clients. Off on Cartera's connections; POSTGRES_JIT=true leaves the server's setting.
POSTGRES_JIT = env.bool("POSTGRES_JIT", default=False)
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql" and not POSTGRES_JIT:
        _options = _database.setdefault("OPTIONS", {})
        _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
# AxesStandaloneBackend only refuses locked-out logins; ModelBackend checks the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Internationalisation: Spanish first, then Portuguese (Brazil) and English.
LANGUAGE_CODE = "es"
LANGUAGES = [
    ("es", _("Spanish")),
    ("pt-br", _("Portuguese (Brazil)")),
    ("en", _("English")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# django-countries' lists (client form, list filter) start with the markets the business sells in.
COUNTRIES_FIRST = ["ES", "PT", "BR", "MX", "AR", "CL", "CO", "PE"]
COUNTRIES_FIRST_BREAK = "──────────"
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Madrid")
# The business's currency: the figures (spend, revenue) are sums of purchase amounts in it.
CURRENCY = env.str("CURRENCY", default="EUR")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
# Files written by the background work (the exports), never served as static: each download goes
# through a view that checks who asks. With several web or worker machines this must be a shared
# disk, or the default storage an S3-compatible one (django-storages), so that the worker that
# writes a file and the web process that sends it see the same one.
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(BASE_DIR / "media"))
# A client list or segment export with more rows than this runs in the background (exports app).
EXPORT_BACKGROUND_ROWS = env.int("EXPORT_BACKGROUND_ROWS", default=5000)
# Days a background export's file is kept before the nightly chores delete it.
EXPORT_KEEP_DAYS = env.int("EXPORT_KEEP_DAYS", default=7)
# Where `manage.py backup` (`make backup`) writes its timestamped backups (git-ignored `backups/`).
BACKUP_DIR = env.str("BACKUP_DIR", default=str(BASE_DIR / "backups"))

# Redis: broker, cache and locks. Without it, tasks run in-process and the cache is local.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
CELERY_TASK_EAGER_PROPAGATES = True
# A full lifecycle recompute on PostgreSQL reads the purchases over this many connections at once
# (segmentation.engine.recompute_lifecycle); 1 keeps it to one.
LIFECYCLE_WORKERS = env.int("LIFECYCLE_WORKERS", default=min(os.cpu_count() or 1, 4))
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or "cache+memory://")
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Long tasks must not be redelivered while still running (Redis visibility timeout).
# Queueing fails fast when the broker is down (the request answers; the work waits, see core/tasks.py):
# a short connect timeout (Redis's transport reads it here, not from broker_connection_timeout), a
# short publish retry policy, and the result store's connections likewise.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 6 * 3600, "socket_connect_timeout": 2}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

if REDIS_URL:
    CACHES = {
        "default": {
            # Redis's own backend, except that an unreachable Redis is a cache miss, not a 500.
            "BACKEND": "core.cache.ForgivingRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="cartera"),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Cartera <no-reply@cartera.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Absolute base of the links in e-mails sent outside a request (the morning summary).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# Tasks that send one campaign side by side (each takes batches of recipients).
CAMPAIGN_SENDERS = env.int("CAMPAIGN_SENDERS", default=2)

# Webhooks: calls to loopback, private, link-local or reserved addresses are refused (an endpoint
# cannot reach inside the network) unless this allows them (a receiver on the same machine).
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=False)

# Imports: what any uploaded file may hold, so that no file holds a worker for long (imports/spreadsheets.py).
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=200_000)
IMPORT_MAX_COLUMNS = env.int("IMPORT_MAX_COLUMNS", default=60)
IMPORT_MAX_CELL_CHARS = env.int("IMPORT_MAX_CELL_CHARS", default=1_000)
# An Excel file's parts, inflated: a 20 MB .xlsx of real data stays far below both.
IMPORT_XLSX_MAX_INFLATED_MB = env.int("IMPORT_XLSX_MAX_INFLATED_MB", default=250)
IMPORT_XLSX_MAX_RATIO = env.int("IMPORT_XLSX_MAX_RATIO", default=100)
# Files above this size are analysed for the preview in the background, with a progress bar.
IMPORT_BACKGROUND_BYTES = env.int("IMPORT_BACKGROUND_BYTES", default=256 * 1024)
# A preview nobody confirms is deleted after this many days (and a refused import's file dropped).
IMPORT_PREVIEW_DAYS = env.int("IMPORT_PREVIEW_DAYS", default=7)
# A running import whose heartbeat is older than this lost its worker and is marked failed.
IMPORT_STALE_MINUTES = env.int("IMPORT_STALE_MINUTES", default=5)
# The category of the products an import creates when asked to (created if missing); empty: "Imported
# products" in the importer's language.
IMPORT_PRODUCT_CATEGORY = env.str("IMPORT_PRODUCT_CATEGORY", default="")

# Security: strict by default once DEBUG is off (check --deploy is clean with production values).
SESSION_COOKIE_HTTPONLY = True
# Idle timeout: requests push the expiry forward (accounts.middleware.IdleSessionMiddleware), so a
# session ends after this long unused. At most one session write a minute, and at least ten pushes
# per idle period: with SESSION_IDLE_MINUTES=1 a push every 6 s, else a user clicking every 20 s
# would be logged out when the first minute ran out.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=60)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_REFRESH_SECONDS = max(1, min(60, SESSION_COOKIE_AGE // 10))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
# Proxies between the internet and gunicorn (load balancer, nginx…), each appending to
# X-Forwarded-For: core.http.client_ip reads the client's address that many places from the right.
PROXY_COUNT = env.int("PROXY_COUNT", default=1 if BEHIND_PROXY else 0)
# The public pages of a signed link (survey, unsubscribe; the calendar feed): requests one client
# address, and one link, may make on each page before a 429 with Retry-After (core.ratelimit).
# "N/s", "N/m", "N/h", "N/d" or "N/<seconds>"; empty: no limit. Calendar services fetch many users'
# feeds from few addresses, and a phone refreshes a feed every few minutes.
RATE_LIMIT_PUBLIC_ADDRESS = env.str("RATE_LIMIT_PUBLIC_ADDRESS", default="120/m")
RATE_LIMIT_PUBLIC_LINK = env.str("RATE_LIMIT_PUBLIC_LINK", default="20/m")
RATE_LIMIT_CALENDAR_ADDRESS = env.str("RATE_LIMIT_CALENDAR_ADDRESS", default="600/h")
RATE_LIMIT_CALENDAR_LINK = env.str("RATE_LIMIT_CALENDAR_LINK", default="60/h")
# The REST API (api/): requests per API token.
RATE_LIMIT_API_TOKEN = env.str("RATE_LIMIT_API_TOKEN", default="600/m")
for _rate in (
    RATE_LIMIT_PUBLIC_ADDRESS, RATE_LIMIT_PUBLIC_LINK, RATE_LIMIT_CALENDAR_ADDRESS, RATE_LIMIT_CALENDAR_LINK,
    RATE_LIMIT_API_TOKEN,
):
    if _rate and not re.fullmatch(r"[0-9]+/([smhd]|[1-9][0-9]*)", _rate):
        raise ImproperlyConfigured(f"A rate limit is N/s, N/m, N/h, N/d or N/<seconds>, not {_rate!r}.")
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# The pages use no camera, microphone, location or payment API: deny them to any script.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
# Scripts only from our own static files (no inline script or handler); inline style attributes
# remain in a few templates (progress bars), hence 'unsafe-inline' for styles only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

# Login protection (django-axes): 5 failures for one username from one address lock that pair
# for 15 minutes, counted from the last counted failure; tries during the lock do not extend it.
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout"
AXES_CLIENT_IP_CALLABLE = "core.http.client_ip"

# Two-factor login (django-otp, TOTP apps and single-use recovery codes; accounts/two_factor.py).
# Administradores must use it, and the Django admin needs a session verified with it; anyone else
# may turn it on. Off by default with DEBUG on, so that the demo's admin logs in with its password.
OTP_REQUIRED_FOR_ADMINS = env.bool("OTP_REQUIRED_FOR_ADMINS", default=not DEBUG)
# The name authenticator apps show next to the account.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Cartera")
# Minutes between the right password and its code before the login starts again.
OTP_LOGIN_MINUTES = 5

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5-responsive.html"

# Logs on stderr: one JSON object a line in production (LOG_FORMAT=json), readable text with DEBUG on.
# One line per request (logger cartera.requests) and per background task (cartera.tasks), with the
# user's id and the request's id, never personal data (core/logs.py says what a line may hold).
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("LOG_FORMAT must be json or text.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "core.logs.JsonFormatter"},
    },
    "filters": {"context": {"()": "core.logs.ContextFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # axes logs every successful login's reset at INFO: lockouts (WARNING) are what matters.
        "axes": {"level": "WARNING"},
        # Each task's line is cartera.tasks'; Celery's own "received" and "succeeded: <its return
        # value>" lines would double it and may print data. Failures (ERROR, traceback) still show.
        "celery.app.trace": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
        # Task loggers (celery.utils.log.get_task_logger) write JSON too, not through a handler of Celery's.
        "celery.task": {"handlers": ["console"], "propagate": False},
    },
}
# The worker keeps these handlers (and their JSON) instead of installing Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Errors to Sentry (web requests and background tasks) only when SENTRY_DSN is set; unset, the SDK is
# not initialised and nothing is sent. No personal data either way (core.logs.PRIVATE_DATA_COLLECTION).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
init_sentry(
    dsn=SENTRY_DSN,
    environment=env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production"),
    release=env.str("SENTRY_RELEASE", default=""),
    traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
)
