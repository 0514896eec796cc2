"""Settings for the telehealth service. Everything that differs between machines comes from the
environment; docs/configuration.md lists each variable."""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from telehealth.env import env_bool, env_duration, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)

# Where `make run` keeps what it generates for this checkout (secret key, Redis files).
VAR_DIR = Path(env_str("TELEHEALTH_VAR_DIR", str(BASE_DIR / "var")))
_GENERATED_SECRET_KEY = VAR_DIR / "secret-key"

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY and _GENERATED_SECRET_KEY.is_file():
    # The key `make run` generated, so `manage.py` works in another shell of the same checkout.
    SECRET_KEY = _GENERATED_SECRET_KEY.read_text().strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
    # Debug only: sessions still work across processes, yet nothing secret is in the code.
    SECRET_KEY = "insecure-debug-only-" + BASE_DIR.as_posix()

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Behind a TLS-terminating proxy in production: secure cookies, HSTS and the proxy's scheme
# header. Off by default because `make run` serves plain HTTP on loopback.
HTTPS = env_bool("DJANGO_HTTPS", False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", False)
USE_X_FORWARDED_HOST = env_bool("DJANGO_USE_X_FORWARDED_HOST", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_results",
    # The project's apps, each below the ones before it (see docs/development.md).
    "patients",
    "notifications",
    "accounts",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "api.middleware.RequestGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "telehealth.urls"
WSGI_APPLICATION = "telehealth.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Project-wide overrides of third-party templates (the browsable API's branding);
        # searched before the apps' own.
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "api.context_processors.clinic",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite in the project by default, anything dj-database-url reads otherwise.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN,
        # so two writers queue on the busy timeout instead of failing with "database is locked"
        # when a read transaction tries to upgrade. https://docs.djangoproject.com/en/5.2/ref/databases/#sqlite-transaction-behavior
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20),
    }
    # A file, not SQLite's in-memory default: tests with threads or a worker process share it.
    DATABASES["default"]["TEST"] = {
        "NAME": env_str("SQLITE_TEST_NAME", str(BASE_DIR / "var" / "test.sqlite3"))
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Counters every process must share (the login throttle); the table is made by a migration.
    "shared": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "telehealth_shared_cache",
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The zone the admin shows times in (stored times are UTC).
TIME_ZONE = env_str("TZ_NAME", "UTC")
# Times to the second and with their zone in every page (telehealth/formats/).
FORMAT_MODULE_PATH = ["telehealth.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Requests larger than this get a JSON 413 (api.middleware); forms use the same limit.
MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", 1024 * 1024)
# The web server's front (api.serving, telehealth/asgi.py): a body not received within this
# many seconds gets a JSON 408 and its connection closed; the app runs in this many threads
# per web process. WEB_HEADER_TIMEOUT, for the headers, is the server's own (devstack.py).
WEB_BODY_TIMEOUT = env_float("WEB_BODY_TIMEOUT", 10.0)
WEB_THREADS = env_int("WEB_THREADS", 8)
# Requests read and waiting for one of those threads, past which a process answers 503.
WEB_MAX_WAITING = env_int("WEB_MAX_WAITING", 256)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so a 401 carries `WWW-Authenticate: Bearer`.
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "api.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"login": env_str("LOGIN_THROTTLE_RATE", "10/minute")},
    # Proxies in front that append to X-Forwarded-For; 0 trusts no header (the client's own
    # address is used), so a client cannot dodge the login throttle by inventing one.
    "NUM_PROXIES": env_int("DJANGO_NUM_PROXIES", 0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Telehealth patient records API",
    "DESCRIPTION": "Patient records for clinics. Send `Authorization: Bearer <token>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The Swagger UI's files come from the sidecar package: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Patients and notifications share the channel choices (sms, email).
    "ENUM_NAME_OVERRIDES": {"ChannelEnum": "notifications.models.Channel"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.paths_without_trailing_slash",
    ],
}

REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Bearer",
    "TOKEN_TTL": env_duration("TOKEN_TTL", "10h"),
    "AUTO_REFRESH": False,
}

# Notifications (the outbox in notifications/, delivered by Celery).
CLINIC_NAME = env_str("CLINIC_NAME", "Telehealth Clinic")
# How many sends a notice gets before it is `failed`, and the backoff between them.
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", 5)
NOTIFICATION_RETRY_BASE_DELAY = env_float("NOTIFICATION_RETRY_BASE_DELAY", 30.0)
NOTIFICATION_RETRY_MAX_DELAY = env_float("NOTIFICATION_RETRY_MAX_DELAY", 1800.0)
# A row `pending` or `sending` this long is re-enqueued by the sweep; longer than any send.
NOTIFICATION_STALE_AFTER = env_duration("NOTIFICATION_STALE_AFTER", "5m")
NOTIFICATION_SWEEP_INTERVAL = env_float("NOTIFICATION_SWEEP_INTERVAL", 60.0)
NOTIFICATION_SWEEP_BATCH = env_int("NOTIFICATION_SWEEP_BATCH", 5000)
# How long publishing a change's tasks may hold its request, all of them together. Past it
# the client still gets its answer, and the rows wait for the next sweep.
NOTIFICATION_PUBLISH_TIMEOUT = env_float("NOTIFICATION_PUBLISH_TIMEOUT", 2.0)
# Within that time, one quick retry (a pooled connection broken by a Redis restart).
NOTIFICATION_PUBLISH_RETRY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}

SMS_BACKEND = env_str("SMS_BACKEND", "console")  # "console", "twilio", or a dotted path
SMS_GATEWAY_URL = env_str("SMS_GATEWAY_URL", "https://api.twilio.com")
SMS_ACCOUNT_SID = env_str("SMS_ACCOUNT_SID", "")
SMS_AUTH_TOKEN = env_str("SMS_AUTH_TOKEN", "")
SMS_FROM = env_str("SMS_FROM", "")
SMS_TIMEOUT = env_float("SMS_TIMEOUT", 10.0)
if SMS_BACKEND == "twilio" and not (SMS_ACCOUNT_SID and SMS_AUTH_TOKEN and SMS_FROM):
    raise ImproperlyConfigured("SMS_BACKEND=twilio needs SMS_ACCOUNT_SID, SMS_AUTH_TOKEN, SMS_FROM")

# Email: SMTP once EMAIL_HOST is set, else the console (without addresses).
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "notifications.backends.email.ConsoleEmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
# STARTTLS by default on the submission port (587), where relays require it.
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL exclude each other: set one")
EMAIL_TIMEOUT = env_float("EMAIL_TIMEOUT", 10.0)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "clinic@localhost")
if NOTIFICATION_STALE_AFTER.total_seconds() <= max(SMS_TIMEOUT, EMAIL_TIMEOUT):
    # Else the sweep would take a row back from a worker still waiting on the gateway.
    raise ImproperlyConfigured("NOTIFICATION_STALE_AFTER must exceed SMS_TIMEOUT and EMAIL_TIMEOUT")
# The right-hand side of notification Message-IDs (<notification id>@this).
EMAIL_MESSAGE_ID_DOMAIN = env_str("EMAIL_MESSAGE_ID_DOMAIN", "telehealth.localhost")

# Celery: Redis is the broker; results (no patient data in them) go to the database.
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The console backends print deliveries; they are not warnings.
CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"
# Celery's Django fix-up closes the database connection around every task unless told to
# reuse it; a new SQLite or PostgreSQL connection per task costs more than the task itself.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Messages each process reserves ahead. With late acks they stay unacked until run, so a
# killed worker's reserved messages come back by the visibility timeout or the sweep.
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int("CELERY_WORKER_PREFETCH_MULTIPLIER", 4)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Redis gives an unacked message to another worker after this long. A retry waits in
    # the worker (unacked) for its countdown, so this must exceed the longest backoff, or
    # the retry would run twice.
    "visibility_timeout": int(max(3600, 2 * NOTIFICATION_RETRY_MAX_DELAY)),
    "socket_connect_timeout": 2,
    # A broker that hangs without closing the connection: a blocking command gives up after
    # this instead of waiting forever (kombu's default). Publishes are bounded more tightly
    # by NOTIFICATION_PUBLISH_TIMEOUT; this frees the thread that waited.
    "socket_timeout": env_float("BROKER_SOCKET_TIMEOUT", 10.0),
}
CELERY_BEAT_SCHEDULE = {
    "notifications-sweep": {
        "task": "notifications.tasks.notifications_sweep_task",
        "schedule": NOTIFICATION_SWEEP_INTERVAL,
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
