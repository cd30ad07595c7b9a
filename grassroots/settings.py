"""Settings for Grassroots, every value read from the environment.

With nothing set, the app runs on the embedded default: a SQLite file and Celery on a
filesystem broker, so a laptop runs the same web + worker + beat code path as production.
With DEBUG off, the web and Celery processes refuse to start without SECRET_KEY and
ALLOWED_HOSTS (grassroots/checks.py); commands that serve nothing, such as migrate, run.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.conf.locale import LANG_INFO
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("GRASSROOTS_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def envbool(name: str, default: str) -> bool:
    value = os.environ.get(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "false")
TESTING = envbool("GRASSROOTS_TESTING", "false")
# The scale and fault tooling (seed_scale, benchmark, loadtest, loadfault, which drops databases
# and restarts PostgreSQL) is installed in development and tests, or when asked for by name;
# a production site's `manage.py help` does not list it.
SCALE_TOOLS = envbool("GRASSROOTS_SCALE_TOOLS", "false") or DEBUG or TESTING

if DEBUG or TESTING:
    SECRET_KEY = os.environ.get("SECRET_KEY") or "insecure-development-key-do-not-use-in-production"
    ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
else:
    # Commands that serve nothing (makemigrations, migrate, collectstatic) run without them;
    # the web and Celery processes refuse to start (grassroots/checks.py), and so does
    # `check --deploy`.
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    ALLOWED_HOSTS = envlist("ALLOWED_HOSTS")
MISSING_FOR_PRODUCTION = (
    []
    if DEBUG or TESTING
    else [name for name in ("SECRET_KEY", "ALLOWED_HOSTS") if not os.environ.get(name, "").strip()]
)

CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # Django's admin, with our site as admin.site (grassroots/admin.py).
    "grassroots.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_htmx",
    "template_partials",
    "grassroots.apps.AxesConfig",
    "grassroots",
    "grids",
    "issues",
    "residents",
    "wishes",
    *(["scale"] if SCALE_TOOLS else []),
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "grassroots.middleware.ContentSecurityPolicyMiddleware",
    # A database that cannot be reached answers 503 with Retry-After, not 500.
    "grassroots.resilience.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "grassroots.middleware.AdminRefusesNulMiddleware",
    "grassroots.middleware.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it answers a locked-out login with the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "grassroots.urls"
WSGI_APPLICATION = "grassroots.wsgi.application"

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
                "issues.context_processors.header",
            ],
        },
    }
]

# The embedded default is a SQLite file; production names PostgreSQL in DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'grassroots.sqlite3'}",
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the Celery worker writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Short queries: JIT compilation costs more (100-200 ms) than it saves, and the dashboard's
    # grouped sorts fit in memory instead of spilling to disk.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off -c work_mem=32MB"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "grassroots",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "grassroots.security.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Five wrong passwords for one account from one address lock that pair out for 30 minutes. The
# pair, not the account alone: grid workers share a carrier's addresses, and a stranger must not
# be able to lock a colleague out by typing their name.
AXES_FAILURE_LIMIT = envint("GRASSROOTS_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("GRASSROOTS_LOGIN_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "grassroots.security.locked_out"
AXES_VERBOSE = False
AXES_USERNAME_FORM_FIELD = "username"  # axes' default, named for grassroots.security
# Behind N trusted proxies, the client's address is the Nth from the end of X-Forwarded-For.
TRUSTED_PROXY_COUNT = envint("GRASSROOTS_TRUSTED_PROXIES", 0)
AXES_CLIENT_IP_CALLABLE = "grassroots.security.client_ip"
# Password-reset mails: per address and per client address, in one window (grassroots/accounts.py).
PASSWORD_RESET_PER_ADDRESS = envint("GRASSROOTS_PASSWORD_RESET_PER_ADDRESS", 3)
PASSWORD_RESET_PER_CLIENT = envint("GRASSROOTS_PASSWORD_RESET_PER_CLIENT", 10)
PASSWORD_RESET_WINDOW = timedelta(minutes=envint("GRASSROOTS_PASSWORD_RESET_WINDOW_MINUTES", 60))
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lhasa keeps Beijing time; everything is stored in UTC.
LANGUAGE_CODE = "zh-hans"
# Tibetan is for the residents' pages (service card, report, tracking); staff pages speak
# Chinese or English. Django knows no Tibetan: without this entry the switcher fails.
LANG_INFO.setdefault("bo", {"bidi": False, "code": "bo", "name": "Tibetan", "name_local": "བོད་ཡིག"})
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English"), ("bo", "བོད་ཡིག")]
# The languages a resident's pages speak; any other (a staff member's English) shows Chinese.
RESIDENT_LANGUAGES = ("zh-hans", "bo")
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["grassroots.formats"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = DEBUG or TESTING
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Photos from phones are large; the form limits each one, this limits the whole request.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
MAX_PHOTO_BYTES = envint("GRASSROOTS_MAX_PHOTO_MB", 10) * 1024 * 1024
# A photo's memory once decoded (pixels × channels, at least RGB's three): 100 MB holds a
# 24-megapixel photo, with transparency; a tiny file that would decode larger is refused.
MAX_PHOTO_DECODED_BYTES = envint("GRASSROOTS_MAX_PHOTO_DECODED_MB", 100) * 1024 * 1024

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG or TESTING
    else "django.core.mail.backends.smtp.EmailBackend",
)
# Where the file-based backend (which `dev.py run` uses) writes each message.
EMAIL_FILE_PATH = Path(os.environ.get("EMAIL_FILE_PATH", VAR_DIR / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "false")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "grassroots@localhost")

# Production hardening; `manage.py check --deploy` is clean with DEBUG off.
# X-Forwarded-Proto is believed only behind a proxy the settings name (which sets or strips
# it): without one, a client could send "https" over plain HTTP and skip the redirect.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT > 0 else None
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "false" if DEBUG or TESTING else "true")
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG or TESTING else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not (DEBUG or TESTING)
SECURE_HSTS_PRELOAD = not (DEBUG or TESTING)
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not (DEBUG or TESTING)
CSRF_COOKIE_SECURE = not (DEBUG or TESTING)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = envlist("SILENCED_SYSTEM_CHECKS")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The covering indexes' INCLUDE columns serve PostgreSQL; SQLite builds the indexes without
    # them, which is all the embedded default needs.
    SILENCED_SYSTEM_CHECKS.append("models.W040")
# No inline or remote scripts; inline style attributes are allowed (htmx and a few templates).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# The admin's own pages: Django's admin scripts are all files (no inline script since 4.x);
# its templates and widgets set inline style attributes.
ADMIN_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)

# Celery: Redis when REDIS_URL is set, otherwise a filesystem broker under var/.
CELERY_BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
else:
    # kombu's filesystem transport, writing each message whole (grassroots/broker.py).
    CELERY_BROKER_URL = "grassroots-filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.2,
    }
    for _folder in ("queue", "processed", "control"):
        (CELERY_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "remind-due-follow-ups": {
        "task": "issues.tasks.remind_due_follow_ups",
        "schedule": timedelta(seconds=envint("GRASSROOTS_REMIND_EVERY_SECONDS", 300)),
        "options": {"expires": 240},
    },
    "escalate-overdue-follow-ups": {
        "task": "issues.tasks.escalate_overdue_follow_ups",
        "schedule": timedelta(seconds=envint("GRASSROOTS_ESCALATE_EVERY_SECONDS", 900)),
        "options": {"expires": 840},
    },
    "deliver-pending-notifications": {
        "task": "issues.tasks.deliver_pending_notifications",
        "schedule": timedelta(seconds=envint("GRASSROOTS_REDELIVER_EVERY_SECONDS", 60)),
        "options": {"expires": 55},
    },
    "sweep-unscheduled-follow-ups": {
        "task": "issues.tasks.sweep_unscheduled_follow_ups",
        "schedule": timedelta(seconds=envint("GRASSROOTS_SWEEP_EVERY_SECONDS", 600)),
        "options": {"expires": 540},
    },
    "compact-dashboard-tallies": {
        "task": "issues.tasks.compact_tallies",
        "schedule": timedelta(seconds=envint("GRASSROOTS_TALLY_COMPACT_EVERY_SECONDS", 300)),
        "options": {"expires": 240},
    },
    # Micro-wishes: a dispatched wish not taken, a taken wish past its date (wishes/tasks.py).
    "remind-untaken-wishes": {
        "task": "wishes.tasks.remind_untaken_dispatches",
        "schedule": timedelta(seconds=envint("GRASSROOTS_WISH_REMIND_EVERY_SECONDS", 900)),
        "options": {"expires": 840},
    },
    "escalate-untaken-wishes": {
        "task": "wishes.tasks.escalate_untaken_dispatches",
        "schedule": timedelta(seconds=envint("GRASSROOTS_WISH_ESCALATE_EVERY_SECONDS", 900)),
        "options": {"expires": 840},
    },
    "remind-overdue-wishes": {
        "task": "wishes.tasks.remind_overdue_taken",
        "schedule": timedelta(seconds=envint("GRASSROOTS_WISH_OVERDUE_EVERY_SECONDS", 3600)),
        "options": {"expires": 3000},
    },
    "reconcile-dashboard-tallies": {
        "task": "issues.tasks.reconcile_tallies",
        "schedule": crontab(hour=3, minute=30),
        "options": {"expires": 3600},
    },
}
# A notification whose email has not gone out after this long is sent by the sweep.
NOTIFICATION_REDELIVER_AFTER = timedelta(seconds=envint("GRASSROOTS_REDELIVER_AFTER_SECONDS", 60))
# A visit overdue by more than this is escalated to the community's staff.
FOLLOW_UP_GRACE = timedelta(hours=envint("GRASSROOTS_FOLLOW_UP_GRACE_HOURS", 72))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Text messages to residents who left a phone (grassroots/sms.py): console by default, a
# folder of files (one per message) for the demo and the browser tests, memory for unit tests.
SMS_BACKEND = os.environ.get(
    "SMS_BACKEND",
    "grassroots.sms.LocmemBackend" if TESTING else "grassroots.sms.ConsoleBackend",
)
SMS_FILE_PATH = Path(os.environ.get("SMS_FILE_PATH", VAR_DIR / "sms"))

# The residents' public pages: what one client address or one courtyard may send.
RESIDENT_REPORTS_PER_HOUR_PER_ADDRESS = envint("GRASSROOTS_RESIDENT_REPORTS_PER_HOUR", 5)
RESIDENT_REPORTS_PER_DAY_PER_COURTYARD = envint("GRASSROOTS_COURTYARD_REPORTS_PER_DAY", 30)
TRACKING_LOOKUPS_PER_HOUR_PER_ADDRESS = envint("GRASSROOTS_TRACKING_LOOKUPS_PER_HOUR", 60)
RESIDENT_MAX_PHOTOS = 3


# The shortest search the issue list accepts; one character finds one-character words (漏).
SEARCH_MIN_LENGTH = envint("GRASSROOTS_SEARCH_MIN_LENGTH", 1)
# Issues on one page of the list.
ISSUES_PER_PAGE = envint("GRASSROOTS_PAGE_SIZE", 50)
if SEARCH_MIN_LENGTH < 1 or ISSUES_PER_PAGE < 1:
    raise ImproperlyConfigured(
        "GRASSROOTS_SEARCH_MIN_LENGTH and GRASSROOTS_PAGE_SIZE must be 1 or more"
    )
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
