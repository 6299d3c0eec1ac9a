"""Aviary settings: every value comes from an environment variable with an embedded default.

Unset, Aviary needs no server at all (SQLite in WAL mode, a filesystem Celery broker, local
file storage, console email). Production (AVIARY_ENVIRONMENT=production) refuses to start
with the development secret key or with DEBUG on.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("AVIARY_DATA_DIR", str(BASE_DIR / ".data")))

ENVIRONMENT = env_str("AVIARY_ENVIRONMENT", "development")
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"AVIARY_ENVIRONMENT must be development or production, got {ENVIRONMENT!r}"
    )
PRODUCTION = ENVIRONMENT == "production"

DEV_ONLY_SECRET_KEY = "aviary-development-only-secret-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env_secret("SECRET_KEY", DEV_ONLY_SECRET_KEY)
DEBUG = env_bool("DEBUG", False)
if PRODUCTION and SECRET_KEY == DEV_ONLY_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set in production (the default is public)")
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production: it leaks settings and data")
if PRODUCTION and len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters in production")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "tenants",
    "accounts",
    "flows",
    "executions",
    "triggers",
    "apps_ui",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "tenants.context_processors.tenant_navigation",
            ],
        },
    },
]

# Database: SQLite (WAL) unless DATABASE_URL names a server.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'aviary.sqlite3'}")
# A kept connection is checked (SELECT 1) before its first use in each request, so that the
# first request after a database restart does not fail on a dead session. Celery workers do
# not start "requests": executions/reconnect.py covers them.
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server read while the worker writes; IMMEDIATE avoids the
        # "database is locked" upgrade deadlock between two writers.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", PRODUCTION)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "frontend" / "dist"]
# Outside production, serve straight from the finders: no collectstatic step to forget.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

# Email: console unless EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "aviary@localhost")

# Celery: a filesystem broker unless CELERY_BROKER_URL names a server.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = DATA_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "worker"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Celery's Django fixup closes every database connection around each task unless this is
# set: a new PostgreSQL session per executor step and per task run (bench: latency -35 %).
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)

# Aviary's own settings, one namespaced block.
AVIARY = {
    "STORAGE_ROOT": env_str("AVIARY_STORAGE_ROOT", str(DATA_DIR / "storage")),
    "MAX_FLOW_SOURCE_BYTES": env_int("AVIARY_MAX_FLOW_SOURCE_BYTES", 1024 * 1024),
    "MAX_IMPORT_BYTES": env_int("AVIARY_MAX_IMPORT_BYTES", 20 * 1024 * 1024),
    "EXAMPLE_FLOWS_DIR": str(BASE_DIR / "flows" / "examples"),
    # Fernet key(s) for secrets at rest; comma-separated to rotate. Unset: derived from
    # SECRET_KEY (fine for development; production should set its own).
    "SECRETS_KEY": env_secret("AVIARY_SECRETS_KEY", ""),
    # A worker renews its task run's lease every third of this; a lease this old means the
    # worker died, and the task run is run again as a new attempt.
    "TASK_LEASE_SECONDS": env_int("AVIARY_TASK_LEASE_SECONDS", 30),
    # Event streams (`.../follow`): the longest one lasts (then the client reconnects), and
    # how often an idle one sends a comment, so that proxies keep the connection open.
    "FOLLOW_MAX_SECONDS": env_int("AVIARY_FOLLOW_MAX_SECONDS", 600),
    "FOLLOW_HEARTBEAT_SECONDS": env_int("AVIARY_FOLLOW_HEARTBEAT_SECONDS", 15),
    # Redis for the change notifications that wake those streams (pub/sub). Empty: the
    # Celery broker when it is Redis; without Redis, streams re-read every second.
    "EVENTS_REDIS_URL": env_str("AVIARY_EVENTS_REDIS_URL", ""),
    # How long a process may reuse an API token's or a membership's lookup (config/ttl_cache.py):
    # a token revoked or a membership removed elsewhere stops working within this many
    # seconds (at once in the process that made the change). 0 turns the cache off.
    "AUTH_CACHE_SECONDS": env_int("AVIARY_AUTH_CACHE_SECONDS", 5),
    # Python `Script` tasks run on an interpreter each worker process starts ahead of time
    # (executions/engine/tasks/warm_python.py); off: each task starts its own.
    "WARM_PYTHON": env_bool("AVIARY_WARM_PYTHON", True),
    # Subflows nested deeper than this along one chain of parents fail instead of starting
    # (a flow that calls itself through another would otherwise never stop).
    "SUBFLOW_MAX_DEPTH": env_int("AVIARY_SUBFLOW_MAX_DEPTH", 20),
    # Webhook triggers: the largest body taken (413 beyond; a JSON event rarely passes 1 MiB),
    # the calls a flow takes per window (429 beyond; 0: no limit), and how long a `wait`
    # webhook holds its request before answering with the execution as it is then.
    "WEBHOOK_MAX_BODY_BYTES": env_int("AVIARY_WEBHOOK_MAX_BODY_BYTES", 10 * 1024 * 1024),
    "WEBHOOK_RATE_LIMIT": env_int("AVIARY_WEBHOOK_RATE_LIMIT", 600),
    "WEBHOOK_RATE_WINDOW_SECONDS": env_int("AVIARY_WEBHOOK_RATE_WINDOW_SECONDS", 60),
    "WEBHOOK_WAIT_SECONDS": env_int("AVIARY_WEBHOOK_WAIT_SECONDS", 300),
}
for _name in (
    "FOLLOW_MAX_SECONDS",
    "FOLLOW_HEARTBEAT_SECONDS",
    "SUBFLOW_MAX_DEPTH",
    "WEBHOOK_MAX_BODY_BYTES",
    "WEBHOOK_RATE_WINDOW_SECONDS",
    "WEBHOOK_WAIT_SECONDS",
):
    if int(AVIARY[_name]) < 1:  # type: ignore[call-overload]
        raise ImproperlyConfigured(f"AVIARY_{_name} must be at least 1, got {AVIARY[_name]}")
if AVIARY["EVENTS_REDIS_URL"] and not str(AVIARY["EVENTS_REDIS_URL"]).startswith(
    ("redis://", "rediss://", "unix://")
):
    raise ImproperlyConfigured(  # the URL may hold a password: only its scheme is shown
        "AVIARY_EVENTS_REDIS_URL must be a redis://, rediss:// or unix:// URL, got one "
        f"starting with {str(AVIARY['EVENTS_REDIS_URL']).split(':', 1)[0]!r}"
    )

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "accounts.authentication.EmailBasicAuthentication",
        "accounts.authentication.CsrfSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Aviary API",
    "DESCRIPTION": "Kestra-compatible REST API of Aviary. Every path is scoped by tenant.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1/",
    # Swagger UI assets come from the sidecar package: the docs page works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
