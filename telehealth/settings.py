"""Settings for the telehealth service. Everything that differs between machines comes from the
environment; docs/configuration.md lists each variable."""

import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from telehealth.env import (
    env_bool,
    env_duration,
    env_float,
    env_int,
    env_list,
    env_str,
    secret_key_weakness,
)

# Files this process creates (the SQLite database and its -wal and -shm, exports, backups,
# what goes in var/) are its owner's alone. Here rather than in each entry point because every
# process that can touch patient data (manage.py, the web server, Celery, the tests, any WSGI
# server) loads the settings before it opens a file. Static files are served by the service
# itself (WhiteNoise), so no other user needs to read them.
os.umask(0o077)

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
elif not DEBUG and (weakness := secret_key_weakness(SECRET_KEY)):
    # Django's own check (security.W009) only warns, and only under `check --deploy`; a weak
    # key lets anyone forge sessions and password-reset links, so it stops the start-up.
    raise ImproperlyConfigured(
        f"DJANGO_SECRET_KEY is too weak ({weakness}); generate one with "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# HTTPS only, behind a TLS-terminating proxy that sets X-Forwarded-Proto (and overwrites any
# the client sent): plain HTTP is redirected, browsers are told never to use it (HSTS), and
# cookies are sent over HTTPS only. On unless debugging; `make run`, the benchmarks and the
# tests serve plain HTTP on loopback and set DJANGO_HTTPS=0.
HTTPS = env_bool("DJANGO_HTTPS", not DEBUG)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # The load balancer's health checks come over plain HTTP and must get their answer, not
    # a redirect; so does Prometheus scraping each web machine on its private address
    # (/metrics holds no patient data, and a redirect would not unsend a token sent in clear).
    # SecurityMiddleware matches these against the path without its leading "/".
    SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz|metrics)/?$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading commits the whole domain, for months, in every browser's built-in list: the
    # domain owner's decision, so it is opt-in.
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [
    # security.W021 (SECURE_HSTS_PRELOAD off): see above; DJANGO_HSTS_PRELOAD=1 turns it on
    # once the domain's owner has decided to submit it to the preload list.
    "security.W021",
]
USE_X_FORWARDED_HOST = env_bool("DJANGO_USE_X_FORWARDED_HOST", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    # The admin with the login lockout and, when ADMIN_REQUIRE_MFA is on, a second factor.
    "accounts.apps.ClinicAdminConfig",
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
    # TOTP second factors for staff (accounts: login, admin, enrol_totp).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "simple_history",
    # The project's apps, each below the ones before it (see docs/development.md).
    "ops",
    "exports",
    "fhir_r4",
    "patients",
    "notifications",
    "audit",
    "accounts",
    "api",
]

MIDDLEWARE = [
    # First, so the request metrics count every answer and time the whole of it.
    "ops.middleware.RequestMetricsMiddleware",
    # Next, so every line logged while a request is served (the redirects too) carries its id.
    "api.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise, whose static files may be cached; everything else may not.
    "api.middleware.NoStoreMiddleware",
    "api.middleware.RequestGuardMiddleware",
    # The probes, answered here: no session read or saved, no authentication.
    "ops.middleware.ProbeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A session login lives no longer than TOKEN_MAX_AGE (its idle timeout: SESSION_COOKIE_AGE).
    "accounts.middleware.SessionMaxAgeMiddleware",
    # Marks a session verified by its OTP device (the admin's ADMIN_REQUIRE_MFA reads it).
    "django_otp.middleware.OTPMiddleware",
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
    # Django's, with a process's writers queued before they ask SQLite (api/database/base.py).
    DATABASES["default"]["ENGINE"] = "api.database"
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
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # libpq waits for ever on a server that does not answer the connection; a URL's own
    # ?connect_timeout= wins.
    DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 5)
    if DATABASE_CONNECT_TIMEOUT < 1:
        raise ImproperlyConfigured("DATABASE_CONNECT_TIMEOUT must be 1 second or more")
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", DATABASE_CONNECT_TIMEOUT
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # "throttle" (the API's rate limits, in Redis) is added below REDIS_URL.
}

# Django's ModelBackend, with a user's permissions read in one query (accounts.backends).
AUTHENTICATION_BACKENDS = ["accounts.backends.OneQueryModelBackend"]

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

# Proxies in front that append to X-Forwarded-For; 0 trusts no header (the connection's address
# is the client's), so a client cannot dodge the rate limits or the lockout by inventing one.
# api.clientip.client_ip reads it for the throttles, the login lockout and the audit.
NUM_PROXIES = env_int("DJANGO_NUM_PROXIES", 0)
if NUM_PROXIES < 0:
    raise ImproperlyConfigured("DJANGO_NUM_PROXIES must be 0 or more")

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
    # Per user once authenticated, per client address before (API_RATE_USER, API_RATE_ANON,
    # read at request time).
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.UserRateThrottle",
        "api.throttling.AnonRateThrottle",
    ],
    "NUM_PROXIES": NUM_PROXIES,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Telehealth patient records API",
    "DESCRIPTION": (
        "Patient records for clinics. Every call but `POST /auth/login` sends "
        "`Authorization: Bearer <token>`. Bodies are JSON. Errors are JSON too: `error` for bad "
        "input and refusals, `message` for 401, 403 and 404. docs/api.md has the whole "
        "contract; this document is checked against the running service by a fuzzer "
        "(tests/test_openapi_fuzz.py)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The Swagger UI's and ReDoc's files come from the sidecar package: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Patients and notifications share the channel choices (sms, email).
    "ENUM_NAME_OVERRIDES": {"ChannelEnum": "notifications.models.Channel"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.paths_without_trailing_slash",
        # The statuses and headers of the layers around every view (after the one above,
        # whose paths it matches views to).
        "api.schema.shared_responses",
    ],
}

# Tokens from /auth/login expire after TOKEN_IDLE_TIMEOUT without use and TOKEN_MAX_AGE after
# the login, whichever comes first (accounts.authentication moves their expiry on each use).
# Tokens from issue_token (and demo_user) live exactly as long as they were issued for:
# --ttl, else TOKEN_MAX_AGE.
if env_str("TOKEN_TTL") is not None:
    raise ImproperlyConfigured(
        "TOKEN_TTL is no longer read: set TOKEN_IDLE_TIMEOUT and TOKEN_MAX_AGE instead"
    )
TOKEN_IDLE_TIMEOUT = env_duration("TOKEN_IDLE_TIMEOUT", "30m")
TOKEN_MAX_AGE = env_duration("TOKEN_MAX_AGE", "12h")
if TOKEN_IDLE_TIMEOUT > TOKEN_MAX_AGE:
    raise ImproperlyConfigured("TOKEN_IDLE_TIMEOUT must not exceed TOKEN_MAX_AGE")
# The admin's and the browsable API's session logins end as the tokens do: after
# TOKEN_IDLE_TIMEOUT without a request (each request renews the cookie), when the browser
# closes, and TOKEN_MAX_AGE after the login (accounts.middleware).
SESSION_COOKIE_AGE = int(TOKEN_IDLE_TIMEOUT.total_seconds())
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# knox's token model (its default), named so migrations can refer to it (accounts.LoginToken).
KNOX_TOKEN_MODEL = "knox.AuthToken"
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Bearer",
    # knox's own default lifetime, for any token made without one.
    "TOKEN_TTL": TOKEN_MAX_AGE,
    # Refreshing is ours (login tokens only); knox's would also shorten service tokens.
    "AUTO_REFRESH": False,
}

# Login lockout (accounts), for /auth/login, /admin/login/ and /api-auth/login/ together:
# LOGIN_LOCKOUT_USER_FAILURES failed logins for one username from one client address, or
# LOGIN_LOCKOUT_IP_FAILURES from one address for any usernames, within LOGIN_LOCKOUT_WINDOW
# of the first, refuse that address (429) until the window has passed. Counted in the
# database, in rows locked while they are read and written.
LOGIN_LOCKOUT_USER_FAILURES = env_int("LOGIN_LOCKOUT_USER_FAILURES", 5)
LOGIN_LOCKOUT_IP_FAILURES = env_int("LOGIN_LOCKOUT_IP_FAILURES", 20)
LOGIN_LOCKOUT_WINDOW = env_duration("LOGIN_LOCKOUT_WINDOW", "15m")
if min(LOGIN_LOCKOUT_USER_FAILURES, LOGIN_LOCKOUT_IP_FAILURES) < 1:
    raise ImproperlyConfigured("LOGIN_LOCKOUT_USER_FAILURES and _IP_FAILURES must be 1 or more")

# Second factor: staff who enrolled a TOTP device (enrol_totp, or the admin) give its code
# at every login; with ADMIN_REQUIRE_MFA the admin admits only sessions verified by one.
ADMIN_REQUIRE_MFA = env_bool("ADMIN_REQUIRE_MFA", False)

# Days a deleted patient's versions, notices and admin log entries keep their personal data
# before the daily purge (patients.tasks) erases it. Unset: kept, and no purge is scheduled.
PATIENT_RETENTION_DAYS = env_int("PATIENT_RETENTION_DAYS", None)
if PATIENT_RETENTION_DAYS is not None and PATIENT_RETENTION_DAYS < 0:
    raise ImproperlyConfigured("PATIENT_RETENTION_DAYS must be 0 or more days")

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
    # Idempotency keys are remembered for 24 hours; this forgets the older ones.
    "idempotency-keys-expire": {"task": "api.idempotency_keys_expire", "schedule": 3600},
    # Expired API tokens are refused at once; this deletes their rows (knox did it on every
    # request, reading all of a user's tokens each time).
    "tokens-expired-delete": {"task": "accounts.tokens_expired_delete", "schedule": 3600},
}
if PATIENT_RETENTION_DAYS is not None:
    CELERY_BEAT_SCHEDULE["patients-purge-deleted"] = {
        "task": "patients.tasks.patients_purge_deleted_task",
        "schedule": 24 * 3600,
    }


# The API's rate limits (api.throttling), as DRF rates ("1200/min"; "off" turns one off),
# counted in Redis so every web process shares them. A Redis that does not answer within the
# timeouts lets the request through with a logged warning (fail open).
def _api_rate(name: str, default: str) -> str | None:
    value = env_str(name, default).strip().lower()
    if value == "off":
        return None
    count, _, period = value.partition("/")
    if not (count.isdigit() and int(count) > 0 and period[:1] in {"s", "m", "h", "d"}):
        raise ImproperlyConfigured(f"{name} must be like 1200/min, 60/minute, 10/s or off")
    return value


API_RATE_USER = _api_rate("API_RATE_USER", "1200/min")
API_RATE_ANON = _api_rate("API_RATE_ANON", "60/min")
API_THROTTLE_TIMEOUT = env_float("API_THROTTLE_TIMEOUT", 0.25)
CACHES["throttle"] = {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": env_str("API_THROTTLE_REDIS_URL", REDIS_URL),
    "KEY_PREFIX": "throttle",
    "OPTIONS": {
        "socket_connect_timeout": API_THROTTLE_TIMEOUT,
        "socket_timeout": API_THROTTLE_TIMEOUT,
    },
}
# What authenticator apps show beside the code.
OTP_TOTP_ISSUER = CLINIC_NAME

# One handler for everything, stderr. Each line carries the id of the request it was written
# for ("-" outside one), and its message is one line with control characters escaped (see
# api/logging.py), so nothing a client sends can forge a line. Loggers name patients by id only.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "api.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {
            "()": "api.logging.EscapingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's defaults would also mail each error, with the whole request (its query
        # string and headers, the token among them), to ADMINS; here it goes to the console.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # The access log (api.serving: method, path without its query, status, duration), at
        # any LOG_LEVEL, as a web server's access log is.
        "api.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # The web server's own messages (granian's Rust side logs through this logger), in
        # its worker processes, which load these settings.
        "_granian": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# FHIR R4 (fhir_r4).
# A POST /fhir/Patient/_search keeps its parameters on the server so that its pages' links
# name it by a random id, not by its values (PHI); they are deleted this long after the
# search, by the beat task below.
FHIR_SEARCH_LIFETIME = env_duration("FHIR_SEARCH_LIFETIME", "1h")
CELERY_BEAT_SCHEDULE["fhir-searches-expire"] = {
    "task": "fhir_r4.searches_expire",
    "schedule": 600,
}

# Bulk export (exports).
# The files go through Django's storage API, the "exports" alias: by default the local disk
# under EXPORT_DIR, readable by the service's user only. When web servers and workers run
# on different machines they need one shared storage: EXPORT_STORAGE_BACKEND names any
# storage class (django-storages' storages.backends.s3.S3Storage, for one) and
# EXPORT_STORAGE_OPTIONS its options, as a JSON object.
EXPORT_DIR = Path(env_str("EXPORT_DIR", str(VAR_DIR / "exports")))
_EXPORT_FILESYSTEM = "django.core.files.storage.FileSystemStorage"
_export_backend = env_str("EXPORT_STORAGE_BACKEND", _EXPORT_FILESYSTEM)
try:
    _export_options = json.loads(env_str("EXPORT_STORAGE_OPTIONS", "{}"))
except ValueError:
    _export_options = None
if not isinstance(_export_options, dict):
    raise ImproperlyConfigured("EXPORT_STORAGE_OPTIONS must be a JSON object")
if _export_backend == _EXPORT_FILESYSTEM:
    _export_options = {
        "location": EXPORT_DIR,
        "file_permissions_mode": 0o600,
        "directory_permissions_mode": 0o700,
        **_export_options,
    }
STORAGES["exports"] = {"BACKEND": _export_backend, "OPTIONS": _export_options}
# How long a finished export's files (and its status URL) are kept; the hourly sweep
# removes them after that.
EXPORT_TTL = env_duration("EXPORT_TTL", "24h")
# Exports one user may have queued or running at once; more get a 429.
EXPORT_MAX_ACTIVE_PER_USER = env_int("EXPORT_MAX_ACTIVE_PER_USER", 2)
# Patients read, written and counted in the progress at a time.
EXPORT_CHUNK_SIZE = env_int("EXPORT_CHUNK_SIZE", 1000)
# A queued or running export whose progress has not moved for this long is failed by the
# sweep (its worker was lost). Longer than the broker's visibility timeout, so that a
# message redelivered after a lost worker gets to run the job again first.
EXPORT_STALE_AFTER = env_duration("EXPORT_STALE_AFTER", "2h")
if EXPORT_CHUNK_SIZE < 1 or EXPORT_MAX_ACTIVE_PER_USER < 1:
    raise ImproperlyConfigured("EXPORT_CHUNK_SIZE and EXPORT_MAX_ACTIVE_PER_USER must be 1 or more")
if EXPORT_STALE_AFTER.total_seconds() <= CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]:
    raise ImproperlyConfigured(
        "EXPORT_STALE_AFTER must be longer than the broker's visibility timeout "
        f"({CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout']} seconds, the larger of an "
        "hour and twice NOTIFICATION_RETRY_MAX_DELAY)"
    )
CELERY_BEAT_SCHEDULE["exports-sweep"] = {
    "task": "exports.tasks.exports_sweep_task",
    "schedule": 3600,
}

# Health checks and metrics (ops).
# The monitoring system's bearer token, for /metrics and /health/status. Unset, /metrics
# answers only connections from loopback, and only with DJANGO_NUM_PROXIES at 0 and no proxy's
# X-Forwarded-*/Forwarded/X-Real-IP header (behind a proxy every connection may come from
# loopback); /health/status, only staff.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured(
        "METRICS_TOKEN must be at least 32 characters; generate one with "
        "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
    )
# Each dependency check (the database's SELECT 1, the broker's PING) gives up after this many
# seconds: a hung database or Redis makes a probe fail, never wait.
HEALTH_CHECK_TIMEOUT = env_float("HEALTH_CHECK_TIMEOUT", 2.0)
if HEALTH_CHECK_TIMEOUT <= 0:
    raise ImproperlyConfigured("HEALTH_CHECK_TIMEOUT must be more than 0 seconds")
# Beat has a worker record a heartbeat every HEALTH_HEARTBEAT_INTERVAL; /health/status fails
# the worker check when none was recorded within HEALTH_WORKER_MAX_AGE, and the outbox check
# when a notice has waited longer than HEALTH_OUTBOX_MAX_AGE (the default is above a notice's
# whole retry schedule, about 8 minutes, and a sweep after NOTIFICATION_STALE_AFTER).
HEALTH_HEARTBEAT_INTERVAL = env_duration("HEALTH_HEARTBEAT_INTERVAL", "15s")
HEALTH_WORKER_MAX_AGE = env_duration("HEALTH_WORKER_MAX_AGE", "60s")
HEALTH_OUTBOX_MAX_AGE = env_duration("HEALTH_OUTBOX_MAX_AGE", "15m")
if HEALTH_HEARTBEAT_INTERVAL >= HEALTH_WORKER_MAX_AGE:
    # Else a healthy worker would fail the check between two heartbeats.
    raise ImproperlyConfigured(
        "HEALTH_HEARTBEAT_INTERVAL must be shorter than HEALTH_WORKER_MAX_AGE"
    )
CELERY_BEAT_SCHEDULE["ops-worker-heartbeat"] = {
    "task": "ops.tasks.worker_heartbeat_task",
    "schedule": HEALTH_HEARTBEAT_INTERVAL.total_seconds(),
    # A heartbeat that waited in the queue longer than the check's limit proves nothing.
    "options": {"expires": HEALTH_WORKER_MAX_AGE.total_seconds()},
}
# prometheus_client's multiprocess mode, which it reads from the environment itself before
# any metric exists: each process writes its counters to files here and /metrics sums them.
# Needed with more than one web process; empty it before the web server starts.
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR")
if PROMETHEUS_MULTIPROC_DIR and not Path(PROMETHEUS_MULTIPROC_DIR).is_dir():
    raise ImproperlyConfigured("PROMETHEUS_MULTIPROC_DIR must be an existing directory")
