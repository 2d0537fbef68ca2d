"""Citydesk settings: one module, read from the environment (django-environ).

Debug is off unless DJANGO_DEBUG says otherwise, so a deployment that forgets
it is a production one. With debug on (`make run`, the test suite) every
variable has a safe local default; with debug off the settings refuse to start
while a signing, payment or storage secret is empty or a known demo value
(portal/deploy_checks.py), whatever ROBOKASSA_IS_TEST says.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from portal.log_format import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # local state for the embedded defaults (SQLite, media, broker)

env = environ.Env()

# --- Core -------------------------------------------------------------------
# DJANGO_DEBUG: off by default; `make run` and the test suite turn it on.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# DJANGO_SECRET_KEY: required when DEBUG is off (checked with the other secrets below).
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "insecure-local-development-key-citydesk-not-for-production"
# DJANGO_ALLOWED_HOSTS: comma-separated.
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off.")
# SITE_URL: absolute base URL used in emails, bot messages and payment links.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "portal.apps.AdminConfig",  # django.contrib.admin with the staff two-factor gate
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django.contrib.sitemaps",
    # third party
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "import_export",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.telegram",
    "allauth.socialaccount.providers.vk",
    "allauth.socialaccount.providers.yandex",
    "allauth.mfa",
    "axes",
    # ours
    "portal",
    "catalog",
    "billing",
    "bookings",
    "referrals",
    "mailings",
    "support",
]

MIDDLEWARE = [
    # First: every answer (redirects and errors included) carries X-Request-ID and is counted.
    "portal.request_ids.RequestIdMiddleware",
    "portal.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.ContentSecurityPolicyMiddleware",  # CSP on every answer, redirects included
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.middleware.BlockedUserMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "referrals.middleware.ReferralCodeMiddleware",  # remembers ?ref=<code> for the signup form
    "portal.middleware.StaffSessionMiddleware",  # staff sessions end STAFF_SESSION_AGE after sign-in
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the lockout page
]

# A process started with DEBUG on also serves the development-only pages
# (portal/urls_dev.py: the local fake Robokassa, uploads from MEDIA_ROOT).
# Back-office exports (django-import-export): only staff who may view a model export it.
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"

# The no-login appeal form a blocked person is sent to from the login refusal (support app).
BLOCKED_USER_APPEAL_URL_NAME = "support:appeal"

ROOT_URLCONF = "portal.urls_dev" if DEBUG else "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"
SITE_ID = 1

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "portal.context_processors.site",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
# DATABASE_URL: postgres://user:pass@host:5432/name; SQLite in var/ by default.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASE_IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if DATABASE_IS_POSTGRES:
    # Persistent connections (DATABASE_CONN_MAX_AGE seconds, one per thread), or with
    # DATABASE_POOL=1 a psycopg pool per process (DATABASE_POOL_MIN_SIZE..DATABASE_POOL_MAX_SIZE
    # connections shared by its threads). DATABASE_HEALTH_CHECKS=1 tests a connection with
    # a round trip before each request reuses it (or each time it leaves the pool); off,
    # a connection the server dropped fails the one request that meets it and is then
    # replaced. docs/operations.md ("Database connections") has the measurements.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DATABASE_HEALTH_CHECKS", default=False)
    if env.bool("DATABASE_POOL", default=False):
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=4),
        }
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
else:
    # SQLite (development): web, worker and beat write to one file. Transactions
    # take the write lock when they begin (a read lock upgraded later fails at
    # once with "database is locked"), writers wait up to 20 s, and WAL lets
    # readers go on while one writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (REDIS_URL) ------------------------------------------------------
# Django's backends with counters (portal/metered_cache.py: citydesk_cache_*).
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "portal.metered_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="citydesk"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "portal.metered_cache.LocMemCache", "LOCATION": "citydesk"}}

# --- Auth and accounts ------------------------------------------------------
AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username + address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_ADAPTER = "portal.allauth_adapter.AccountAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "referrals.forms.ReferralSignupForm"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
SOCIALACCOUNT_ADAPTER = "portal.allauth_adapter.SocialAccountAdapter"
SOCIALACCOUNT_PROVIDERS = {}  # filled in the Telegram/VK/Yandex sections below
# Telegram and VK identities carry no email: the platform vouches for the person,
# so signing in with them needs no email (nor its confirmation).
SOCIALACCOUNT_EMAIL_REQUIRED = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
# REAUTHENTICATION_TIMEOUT: seconds a password (or 2FA code) re-entry stays fresh for
# the sensitive staff actions (granting balance, blocking a user) and 2FA changes.
ACCOUNT_REAUTHENTICATION_TIMEOUT = env.int("REAUTHENTICATION_TIMEOUT", default=300)

# --- Login lockout (django-axes) and staff two-factor (allauth.mfa) --------------
# Every password check goes through django.contrib.auth.authenticate, which axes
# watches: LOGIN_FAILURE_LIMIT failures for one username from one client address
# lock that pair out for LOGIN_LOCKOUT_MINUTES after the last failure. Tries made
# while locked out are refused before any password check and do not count.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "portal.login_lockout.login_username"
AXES_CLIENT_IP_CALLABLE = "portal.client_address.client_ip"
AXES_LOCKOUT_CALLABLE = "portal.login_lockout.lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins are in the security log (portal.SecurityEvent)
AXES_VERBOSE = False
# allauth's own limit on failed sign-ins stays as a backstop per account across all
# addresses (it also bounds guessing 2FA codes); it is set well above the lockout
# so one attacker cannot lock a person out everywhere with a few wrong passwords.
ACCOUNT_RATE_LIMITS = {"login_failed": f"10/m/ip,{4 * AXES_FAILURE_LIMIT}/15m/key"}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Citydesk"  # the name staff see in their authenticator app
# A code typed in its last seconds, or from a phone whose clock is a little off, still
# passes: the previous and the next 30 s step are accepted too (RFC 6238, section 5.2).
# A used code is refused for the rest of its life, and lockout counts wrong ones.
MFA_TOTP_TOLERANCE = 1
# STAFF_SESSION_AGE: seconds a staff session lasts from sign-in, however active.
STAFF_SESSION_AGE = env.int("STAFF_SESSION_AGE", default=4 * 3600)

# --- Internationalisation ---------------------------------------------------
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Moscow"
USE_I18N = True
USE_TZ = True

# --- Static and media (django-storages S3 when AWS_STORAGE_BUCKET_NAME is set)
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))  # STATIC_ROOT: collectstatic target
STATICFILES_DIRS = [BASE_DIR / "static"]
os.makedirs(STATIC_ROOT, exist_ok=True)  # whitenoise expects it to exist
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="")
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="")
# AWS_S3_REGION_NAME: the bucket's region (MinIO: any, us-east-1 by default).
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="") or None
AWS_S3_FILE_OVERWRITE = False
AWS_DEFAULT_ACL = None
# Files are served through presigned URLs (the bucket is private), signed with
# Signature Version 4: the only one newer AWS regions accept, and MinIO's default.
AWS_QUERYSTRING_AUTH = True
AWS_S3_SIGNATURE_VERSION = "s3v4"
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {"BACKEND": "storages.backends.s3.S3Storage"}
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Uploaded images (avatars, logos, photos): limits enforced with Pillow.
IMAGE_UPLOAD_MAX_BYTES = env.int("IMAGE_UPLOAD_MAX_BYTES", default=5 * 1024 * 1024)
IMAGE_UPLOAD_MAX_PIXELS = env.int("IMAGE_UPLOAD_MAX_PIXELS", default=25_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Email (EMAIL_URL, DEFAULT_FROM_EMAIL) ----------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Citydesk <noreply@citydesk.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Django REST framework and the OpenAPI schema ---------------------------
# TRUSTED_PROXY_COUNT: how many reverse proxies in front of the site append to
# X-Forwarded-For. 0 (default) ignores the header: the client is REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT cannot be negative.")
# allauth's rate limits read the address through portal.allauth_adapter (that is,
# portal.client_address); its own setting is kept equal for anything else of allauth's.
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

# JSON_MAX_BODY_BYTES / JSON_MAX_DEPTH: the largest and most deeply nested JSON
# body the API and the bot webhooks accept; anything else is a 400 (portal/json_limits.py).
JSON_MAX_BODY_BYTES = env.int("JSON_MAX_BODY_BYTES", default=1024 * 1024)
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)

REST_FRAMEWORK = {
    # The first class decides the WWW-Authenticate header, so a missing or bad
    # credential is a 401 rather than a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.miniapp_auth.TelegramMiniAppAuthentication",
        "portal.miniapp_auth.VKMiniAppAuthentication",
        "portal.api_permissions.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticatedOrReadOnly",
        "portal.api_permissions.NotBlocked",
    ],
    # JSON bodies only, with size and depth limits (uploads take multipart on their own views): a form
    # encoding cannot carry null or nested values, so the schema could not describe what it would mean.
    "DEFAULT_PARSER_CLASSES": ["portal.api_parsers.LimitedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "portal.api_pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    # One throttle policy for the API and the HTML forms (portal/throttling.py):
    # the same counters, keyed by user id or portal.client_address.client_ip.
    "DEFAULT_THROTTLE_CLASSES": [
        "portal.throttling.AnonThrottle",
        "portal.throttling.UserThrottle",
    ],
    # API_THROTTLE_<SCOPE>: "<requests>/<second|minute|hour|day>" per user (or per
    # client address when signed out); the table is in docs/security.md.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="120/min"),
        "user": env.str("API_THROTTLE_USER", default="600/min"),
        "sensitive": env.str("API_THROTTLE_SENSITIVE", default="20/min"),
        "signup": env.str("API_THROTTLE_SIGNUP", default="10/hour"),
        "password_reset": env.str("API_THROTTLE_PASSWORD_RESET", default="10/hour"),
        "invite": env.str("API_THROTTLE_INVITE", default="30/hour"),
        "ticket": env.str("API_THROTTLE_TICKET", default="10/hour"),
        "ticket_message": env.str("API_THROTTLE_TICKET_MESSAGE", default="60/hour"),
        "appeal": env.str("API_THROTTLE_APPEAL", default="5/hour"),
        "topup": env.str("API_THROTTLE_TOPUP", default="20/hour"),
        "upload": env.str("API_THROTTLE_UPLOAD", default="60/hour"),
        "referral_lookup": env.str("API_THROTTLE_REFERRAL_LOOKUP", default="10/min"),
        "referral_apply": env.str("API_THROTTLE_REFERRAL_APPLY", default="10/hour"),
        "payment_callback": env.str("API_THROTTLE_PAYMENT_CALLBACK", default="120/min"),
        "telegram_webhook": env.str("API_THROTTLE_TELEGRAM_WEBHOOK", default="600/min"),
        "vk_callback": env.str("API_THROTTLE_VK_CALLBACK", default="600/min"),
    },
    # DRF's own address helper (used by nothing of ours now) agrees with client_ip.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "EXCEPTION_HANDLER": "portal.api_errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "portal.api_schema.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Citydesk API",
    "DESCRIPTION": "City services portal: catalog, bookings, billing, referrals, tickets.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name for a choice set used by several fields (support: ticket status and its history).
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "support.models.Ticket.Status",
        "ParticipantStatusEnum": "bookings.models.BookingParticipant.Status",
    },
    # <id:…> path segments (portal.converters.IdConverter): 1 to 18 digits, our ids start at 1.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 1, "maximum": 999_999_999_999_999_999}},
}

# --- Celery (CELERY_BROKER_URL, defaults from REDIS_URL) ---------------------
# With neither set, kombu's filesystem transport under var/celery needs no server.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
# CELERY_VISIBILITY_TIMEOUT: seconds before Redis hands an unacknowledged task to another worker (below).
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
# CELERY_BROKER_DIR: the filesystem broker's folder (tests point it elsewhere).
CELERY_BROKER_DIR = Path(env.str("CELERY_BROKER_DIR", default=str(VAR_DIR / "celery")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        # fanout/broadcast exchanges (remote control); kombu's default is ./control
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Redis redelivers a message that is not acknowledged within visibility_timeout.
    # Tasks are acks_late (acknowledged when they finish), so the timeout must
    # exceed the longest task time limit, or a long task still running would be
    # handed to a second worker; it must also exceed the longest countdown or ETA
    # (retry backoff), which the worker holds unacknowledged until it is due.
    # tests/test_celery_config.py checks both against every task.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Telegram (TELEGRAM_*) ---------------------------------------------------
TELEGRAM_BOT_TOKEN = env.str("TELEGRAM_BOT_TOKEN", default="")
TELEGRAM_BOT_USERNAME = env.str("TELEGRAM_BOT_USERNAME", default="citydesk_bot")
TELEGRAM_API_BASE_URL = env.str("TELEGRAM_API_BASE_URL", default="https://api.telegram.org/bot")
TELEGRAM_WEBHOOK_SECRET = env.str("TELEGRAM_WEBHOOK_SECRET", default="")
# TELEGRAM_MINIAPP_URL: what the bot's menu button and /start button open (docs/miniapp.md).
TELEGRAM_MINIAPP_URL = env.str("TELEGRAM_MINIAPP_URL", default=SITE_URL + "/")
# TELEGRAM_MINIAPP_SHORT_NAME: the short name given to BotFather's /newapp; share links become
# t.me/<bot>/<short name>?startapp=…; empty: t.me/<bot>?startapp=… (the bot's main Mini App).
TELEGRAM_MINIAPP_SHORT_NAME = env.str("TELEGRAM_MINIAPP_SHORT_NAME", default="")
TELEGRAM_LOGIN_WIDGET_ENABLED = bool(TELEGRAM_BOT_TOKEN)
if TELEGRAM_BOT_TOKEN:
    SOCIALACCOUNT_PROVIDERS["telegram"] = {
        # The login widget's bot_id is the numeric id at the start of the token.
        "APP": {"client_id": TELEGRAM_BOT_TOKEN.split(":", 1)[0], "secret": TELEGRAM_BOT_TOKEN},
        "AUTH_PARAMS": {"auth_date_validity": 30},
    }
MINIAPP_AUTH_MAX_AGE = env.int("MINIAPP_AUTH_MAX_AGE", default=86400)

# --- VK (VK_*) ----------------------------------------------------------------
VK_APP_ID = env.str("VK_APP_ID", default="")
VK_APP_SECRET = env.str("VK_APP_SECRET", default="")  # Mini App launch-params key
VK_GROUP_ID = env.str("VK_GROUP_ID", default="")
VK_GROUP_TOKEN = env.str("VK_GROUP_TOKEN", default="")
VK_CALLBACK_SECRET = env.str("VK_CALLBACK_SECRET", default="")
VK_CONFIRMATION_CODE = env.str("VK_CONFIRMATION_CODE", default="")
VK_API_BASE_URL = env.str("VK_API_BASE_URL", default="https://api.vk.ru/method/")
# VK_OAUTH_CLIENT_ID / VK_OAUTH_SECRET: the website's "log in with VK" (allauth).
VK_OAUTH_CLIENT_ID = env.str("VK_OAUTH_CLIENT_ID", default="")
VK_OAUTH_SECRET = env.str("VK_OAUTH_SECRET", default="")
if VK_OAUTH_CLIENT_ID and VK_OAUTH_SECRET:
    SOCIALACCOUNT_PROVIDERS["vk"] = {"APP": {"client_id": VK_OAUTH_CLIENT_ID, "secret": VK_OAUTH_SECRET}}

# --- Yandex (YANDEX_CLIENT_ID, YANDEX_SECRET) --------------------------------
YANDEX_CLIENT_ID = env.str("YANDEX_CLIENT_ID", default="")
YANDEX_SECRET = env.str("YANDEX_SECRET", default="")
if YANDEX_CLIENT_ID and YANDEX_SECRET:
    SOCIALACCOUNT_PROVIDERS["yandex"] = {"APP": {"client_id": YANDEX_CLIENT_ID, "secret": YANDEX_SECRET}}

# --- Robokassa (ROBOKASSA_*) ---------------------------------------------------
# The demo values serve `make run` only: with DEBUG off they are refused below.
ROBOKASSA_LOGIN = env.str("ROBOKASSA_LOGIN", default="citydesk-demo")
ROBOKASSA_PASSWORD1 = env.str("ROBOKASSA_PASSWORD1", default="demo-password-1")
ROBOKASSA_PASSWORD2 = env.str("ROBOKASSA_PASSWORD2", default="demo-password-2")
# ROBOKASSA_IS_TEST: Robokassa's test mode; on with debug, off otherwise (test
# payments cost nothing, yet credit balances: `check --deploy` warns about it).
ROBOKASSA_IS_TEST = env.bool("ROBOKASSA_IS_TEST", default=DEBUG)
ROBOKASSA_HASH = env.str("ROBOKASSA_HASH", default="md5").lower()
if ROBOKASSA_HASH not in {"md5", "sha256", "sha512"}:
    raise ImproperlyConfigured("ROBOKASSA_HASH must be one of md5, sha256, sha512.")

# --- Notifications -------------------------------------------------------------
# Order in which notify() tries a user's channels; the first that can reach them wins.
NOTIFY_CHANNELS = env.list("NOTIFY_CHANNELS", default=["telegram", "vk", "email"])

# --- App settings (each app documents its own) --------------------------------
# catalog
# CATALOG_IMPORT_ASYNC_THRESHOLD: CSV imports with more rows run in a Celery task.
CATALOG_IMPORT_ASYNC_THRESHOLD = env.int("CATALOG_IMPORT_ASYNC_THRESHOLD", default=2000)
# CATALOG_LIST_CACHE_SECONDS: how long a public catalog list stays cached (0 disables);
# any catalog change invalidates at once, this bounds how late an expired listing disappears.
CATALOG_LIST_CACHE_SECONDS = env.int("CATALOG_LIST_CACHE_SECONDS", default=30)
# billing
TOPUP_MIN_AMOUNT = env.str("TOPUP_MIN_AMOUNT", default="100.00")
TOPUP_MAX_AMOUNT = env.str("TOPUP_MAX_AMOUNT", default="100000.00")
# ROBOKASSA_PAYMENT_URL: where payment links point. Empty means Robokassa's own
# page (https://auth.robokassa.ru/Merchant/Index.aspx); in test mode with DEBUG
# the default is the local fake Robokassa so `make run` can be clicked through.
ROBOKASSA_PAYMENT_URL = env.str(
    "ROBOKASSA_PAYMENT_URL",
    default=f"{SITE_URL}/billing/robokassa/fake/" if (ROBOKASSA_IS_TEST and DEBUG) else "",
)
# ROBOKASSA_PENDING_TTL: minutes a top-up may stay unpaid; then beat marks it expired
# ("not paid: expired") and the user starts a new one. A late paid callback still credits it.
ROBOKASSA_PENDING_TTL = env.int("ROBOKASSA_PENDING_TTL", default=60)
# bookings
BOOKING_CANCEL_DEADLINE_HOURS = env.int("BOOKING_CANCEL_DEADLINE_HOURS", default=2)
BOOKING_MAX_LENGTH_HOURS = env.int("BOOKING_MAX_LENGTH_HOURS", default=12)
BOOKING_REMINDER_OFFSETS_MINUTES = env.list("BOOKING_REMINDER_OFFSETS_MINUTES", cast=int, default=[1440, 60])
# BOOKING_CHECKIN_EARLY_MINUTES: how long before the start a booking can be checked in
BOOKING_CHECKIN_EARLY_MINUTES = env.int("BOOKING_CHECKIN_EARLY_MINUTES", default=30)
# referrals
REFERRAL_BONUS_AMOUNT = env.str("REFERRAL_BONUS_AMOUNT", default="100.00")
REFERRAL_CODE_MIN_DAYS = env.int("REFERRAL_CODE_MIN_DAYS", default=1)
REFERRAL_CODE_MAX_DAYS = env.int("REFERRAL_CODE_MAX_DAYS", default=365)
REFERRAL_CODE_DEFAULT_DAYS = env.int("REFERRAL_CODE_DEFAULT_DAYS", default=30)
# REFERRAL_APPLY_WINDOW_HOURS: how long after registration a code can still be applied.
REFERRAL_APPLY_WINDOW_HOURS = env.int("REFERRAL_APPLY_WINDOW_HOURS", default=24)
# mailings
TELEGRAM_RATE_GLOBAL = env.str("TELEGRAM_RATE_GLOBAL", default="30/second")
TELEGRAM_RATE_PER_CHAT = env.str("TELEGRAM_RATE_PER_CHAT", default="1/second")
VK_RATE = env.str("VK_RATE", default="20/second")
# MAILING_DELIVERY_LEASE_SECONDS: a sending mailing with no progress for this long is
# taken to have lost its worker and is resumed by the dispatcher.
MAILING_DELIVERY_LEASE_SECONDS = env.int("MAILING_DELIVERY_LEASE_SECONDS", default=600)
# MAILINGS_QUEUE: a dedicated Celery queue for mailing batches (empty: the default queue).
MAILINGS_QUEUE = env.str("MAILINGS_QUEUE", default="") or None

# --- Security (production) ------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# Lax: another site cannot make a browser send our cookies with its POSTs,
# images or frames. The Mini App webviews open our pages top-level, where Lax
# cookies work; docs/security.md explains the web clients' iframes.
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Mini Apps load our pages in Telegram's and VK's web clients (iframes), so
# instead of X-Frame-Options (all or nothing) the CSP frame-ancestors
# directive names the hosts allowed to frame the user pages. The admin and the
# API (its docs included) get frame-ancestors 'none' and X-Frame-Options DENY
# from portal.middleware.ContentSecurityPolicyMiddleware.
FRAME_ANCESTORS = env.list(
    "FRAME_ANCESTORS",
    default=[
        "'self'",
        "https://web.telegram.org",
        "https://*.telegram.org",
        "https://vk.com",
        "https://*.vk.com",
        "https://vk.ru",
        "https://*.vk.ru",
    ],
)
SILENCED_SYSTEM_CHECKS = ["security.W002"]  # X-Frame-Options: see ContentSecurityPolicyMiddleware


def _origin(url: str | None) -> str:
    """scheme://host[:port] of ``url`` ("" when it has none)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


# Content-Security-Policy (django-csp 4): no inline script or style anywhere;
# every script is a static file. docs/security.md explains each directive and
# how to add a host.
# Uploaded images come from the S3 endpoint (or the bucket's AWS host) when S3 is on.
if AWS_STORAGE_BUCKET_NAME:
    _MEDIA_ORIGINS = [_origin(AWS_S3_ENDPOINT_URL) or f"https://{AWS_STORAGE_BUCKET_NAME}.s3.amazonaws.com"]
else:
    _MEDIA_ORIGINS = []
# Forms whose answer redirects off the site: the top-up (Robokassa's payment
# page) and "log in with" a configured provider (its authorization page).
_FORM_ORIGINS = ["https://auth.robokassa.ru", _origin(ROBOKASSA_PAYMENT_URL)]
_FORM_ORIGINS += [
    origin
    for provider, origin in (
        ("telegram", "https://oauth.telegram.org"),
        ("vk", "https://id.vk.ru"),
        ("yandex", "https://oauth.yandex.com"),
    )
    if provider in SOCIALACCOUNT_PROVIDERS
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *_MEDIA_ORIGINS],
        "media-src": ["'self'", *_MEDIA_ORIGINS],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'", *dict.fromkeys(o for o in _FORM_ORIGINS if o)],
        "frame-ancestors": FRAME_ANCESTORS,
    },
}
# URL prefixes whose pages nobody may frame: CSP frame-ancestors 'none' and X-Frame-Options DENY.
CSP_FRAME_DENY_PREFIXES = ["/admin/", "/api/"]

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # The container healthcheck calls /healthz over plain HTTP from inside (Prometheus's
    # scrape of /metrics is answered before this redirect: portal.metrics.MetricsMiddleware).
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

# Secure by default: with DEBUG off, no empty or demo secret (see portal/deploy_checks.py).
if not DEBUG:
    from portal.deploy_checks import insecure_settings, insecure_settings_message

    _insecure = insecure_settings(globals())
    if _insecure:
        raise ImproperlyConfigured(insecure_settings_message(_insecure))

# --- Logs, metrics, error reports (docs/operations.md) ----------------------------
# LOG_LEVEL: the level of every logger (web, worker, beat); LOG_FORMAT: "plain"
# (a line of text) or "json" (one JSON object per line). Both carry the request
# id (portal/request_ids.py, portal/log_format.py).
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="plain").lower()
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT must be plain or json.")
LOGGING = logging_config(level=LOG_LEVEL, log_format=LOG_FORMAT)

# METRICS_TOKEN: GET /metrics (and a worker's exporter) answers only to
# "Authorization: Bearer <METRICS_TOKEN>"; unset, both answer 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
if METRICS_TOKEN and not DEBUG and len(METRICS_TOKEN) < 24:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 24 characters (or empty to turn /metrics off).")
# WORKER_METRICS_PORT: the port a Celery worker serves its /metrics on (0: none).
WORKER_METRICS_PORT = env.int("WORKER_METRICS_PORT", default=0)
# PROMETHEUS_MULTIPROC_DIR: read by prometheus_client itself from the environment
# (set it for gunicorn with several workers and for Celery's prefork pool: one
# folder per web or worker container; it is emptied when that container starts).
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")

# SENTRY_DSN: report unhandled errors of requests and tasks to Sentry, tagged
# with the request id (off when empty); SENTRY_ENVIRONMENT names the deployment;
# SENTRY_TRACES_SAMPLE_RATE: the share of requests traced for performance (0-1).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if SENTRY_DSN:
    from portal.sentry import sentry_init

    sentry_init(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE)

# Tests: a per-process Redis key prefix keeps parallel test runs apart.
if os.environ.get("PYTEST_XDIST_WORKER") and REDIS_URL:
    CACHES["default"]["KEY_PREFIX"] += "-" + os.environ["PYTEST_XDIST_WORKER"]
