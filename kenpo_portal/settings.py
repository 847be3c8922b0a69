"""Settings for Kenpo Portal, every value read from the environment.

With no environment at all the site runs on the *embedded default*: SQLite in
``var/``, Celery tasks run eagerly in-process, e-mail printed to the console and
DEBUG on — so a newcomer's one command works on a bare machine.

``DJANGO_ENV=production`` turns on the production mode, for which
``python manage.py check --deploy`` reports nothing. Every variable is listed in
README.md ("Configuration").
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.utils.translation import gettext_lazy as _
from whitenoise.compress import Compressor

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # the embedded SQLite database and generated files
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)
if PRODUCTION:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key-change-me")
# Old keys still accepted for signatures (and MFA secrets, below) while rotating.
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "staff.admin_apps.KenpoAdminConfig",  # django.contrib.admin with our site (staff.admin_site)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sites",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "audit.apps.ChangeHistoryConfig",  # django-auditlog, named 変更履歴 in the menu
    "core",
    "audit",
    "eligibility",
    "approvals",
    "certificates",
    "notices",
    "reminders",
    "staff",
    "imports",
    "exports",
    # Over the domain apps: the member's door (staff's is `staff`, above) and the demo society.
    "member",
    "demo",  # seed_demo: the demo society, written by calling each domain app
    "employer",  # the employer door (事業所担当者, R12)
]
SITE_ID = 1

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kenpo_portal.statement_timeout.StatementTimeoutMiddleware",  # no request runs away (before any query)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.NoStoreForLoggedInMiddleware",  # personal pages stay out of every cache
    "core.middleware.RememberLanguageMiddleware",  # the language e-mails are written in
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.middleware.IdleTimeoutMiddleware",  # logs out a session left unused too long
    "staff.middleware.AdminSearchGuardMiddleware",  # before anything puts the URL in a `next`
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "core.middleware.FactorChangeNeedsFactorMiddleware",  # changing a second factor needs the current one
    "audit.middleware.AuditlogMiddleware",  # auditlog's, with our client address
    "audit.middleware.RecoveryCodesReadMiddleware",  # a login reading its own recovery codes
    "staff.middleware.StaffMFARequiredMiddleware",
    "employer.middleware.EmployerContactConfinedMiddleware",  # a contact never reaches member or staff pages
    "kenpo_portal.errors.MFAKeyMismatchMiddleware",  # innermost: sees the views' exceptions
]

ROOT_URLCONF = "kenpo_portal.urls"
WSGI_APPLICATION = "kenpo_portal.wsgi.application"

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
                "eligibility.contact.context",
            ],
            "builtins": ["core.templatetags.wareki"],
        },
    },
    {
        # Only the dashboard's person cards (member/jinja2/): see kenpo_portal/jinja2.py.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "APP_DIRS": True,
        "OPTIONS": {"environment": "kenpo_portal.jinja2.environment", "keep_trailing_newline": True},
    },
]

# --- Database -----------------------------------------------------------------
# DATABASE_URL=postgres://user@host:5432/name switches from the embedded SQLite.
# Persistent connections with health checks: reconnecting on every request cost
# PostgreSQL pages about 7x in throughput here.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits, sessions' neighbours) ------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "kenpo_portal.cache.RedisCache",  # Django's, one client per pool
            "LOCATION": env.str("CACHE_REDIS_URL", default=REDIS_URL),
            "KEY_PREFIX": "kenpo",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions read from the cache and written through to the database: no query per
# request for the session, and nobody is logged out when the cache restarts.
if REDIS_URL:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Celery -----------------------------------------------------------------------
# With no REDIS_URL tasks run eagerly in-process (the embedded default).
# (memory://localhost/: with no host named, kombu warns "No hostname was supplied" in bin/demo.)
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "Asia/Tokyo"
# A task is acknowledged only when it finished, so a worker that dies mid-task
# leaves it to be delivered again; tasks are written to be idempotent for that.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Longer than the longest task's hard time limit, so Redis does not redeliver a
# task that is still running.
# A broker that does not answer within KENPO_BROKER_TIMEOUT seconds (down, or hung: a
# stopped Redis accepts connections and never replies) fails the publish like a down one,
# so a command or a page that queues a task never hangs on it (issue 27).
KENPO_BROKER_TIMEOUT = env.float("KENPO_BROKER_TIMEOUT", default=3.0)
CELERY_BROKER_CONNECTION_TIMEOUT = KENPO_BROKER_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_timeout": KENPO_BROKER_TIMEOUT,
    "socket_connect_timeout": KENPO_BROKER_TIMEOUT,
    # A publish is tried twice at most (the second on a fresh connection), not for ever.
    "max_retries": 1,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_TASK_SOFT_TIME_LIMIT = 600
CELERY_TASK_TIME_LIMIT = 900
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "certificates.tasks.*": {"queue": "pdf"},
    # Imports and exports: long set-based jobs, kept off the reminders' queue.
    "imports.tasks.*": {"queue": "imports"},
    "exports.tasks.*": {"queue": "imports"},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# /healthz fails a worker's queue (or beat) whose heartbeat is older than this (kenpo_portal/health.py).
KENPO_HEARTBEAT_STALE_SECONDS = env.int("KENPO_HEARTBEAT_STALE_SECONDS", default=600)

# --- E-mail -----------------------------------------------------------------------
# EMAIL_URL=smtp://user:pass@host:587 (or smtp+tls://, smtps://); console otherwise.
if env.str("EMAIL_URL", default=""):
    # Named one by one: every setting visible to readers and linters.
    _email = env.email_url("EMAIL_URL")
    _email_url = urlsplit(env.str("EMAIL_URL"))
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
    EMAIL_PORT = _email.get("EMAIL_PORT") or 25
    EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
    EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
    EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
    EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
    # filemail:///app/var/mail is the folder /app/var/mail, as a file:// URL says (the
    # parser would make it app/var/mail, relative to wherever the process started).
    EMAIL_FILE_PATH = (_email_url.path or None) if _email_url.scheme == "filemail" else None
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="けんぽポータル <no-reply@kenpo.example.jp>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Accounts (django-allauth) ----------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "eligibility:dashboard"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
# No prefix from allauth: core.email.subject() writes the one subject style (【けんぽポータル】 / [Kenpo Portal]).
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
# "Signed in as …": the person's name (or the e-mail), never a username members never chose.
ACCOUNT_USER_DISPLAY = "eligibility.selectors.user_display"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
# allauth's rate limits are on by default; these make them explicit and add the
# limit for the account-linking form (see eligibility.linking).
# "key" of login_failed is the account AND the client address (core.adapters): 5 wrong
# passwords lock that account for that address only.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    # A browser that logged in as the account before (core.adapters): its own bucket, no /ip.
    "login_failed_known_device": "5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
    # Wrong attempts at /my/link/ (記号・番号・枝番, birth date, activation code).
    "link_member": "5/15m/user,20/h/ip",
}
# WebAuthn (security keys, passkeys as a second factor) besides TOTP; its JS is static,
# so the CSP stays script-src 'self'. Plain http is allowed only in development.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Kenpo Portal")
# core.adapters' rate-limit keys, plus the site's one e-mail subject style (core.email).
ACCOUNT_ADAPTER = "core.email.AccountAdapter"
MFA_ADAPTER = "core.adapters.MFAAdapter"
# TOTP secrets and recovery-code seeds are stored encrypted (core.adapters.MFAAdapter).
# KENPO_MFA_ENCRYPTION_KEY: comma-separated, the first encrypts, all decrypt. Unset,
# the keys derive from DJANGO_SECRET_KEY (and its fallbacks): like the secret key it
# lives in the environment, never in the database, so a database dump alone reveals
# no secret; production already requires DJANGO_SECRET_KEY, so there is no built-in
# key there. Rotating the secret key: keep the old one in DJANGO_SECRET_KEY_FALLBACKS
# (or set this variable to the old key first) until staff have re-enrolled.
KENPO_MFA_ENCRYPTION_KEYS = env.list("KENPO_MFA_ENCRYPTION_KEY", default=[SECRET_KEY, *SECRET_KEY_FALLBACKS])

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language and time --------------------------------------------------------------
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("日本語")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# --- Static and generated files ---------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# The bundled IPAex fonts (14 MB) are for WeasyPrint, read from static/fonts, never sent to
# browsers: compressing them (gzip and brotli) took collectstatic minutes on every build.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "ttf", "otf"]
# Files served at the site's root by whitenoise (/favicon.ico), in every mode.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
# Generated PDFs (資格確認書 and print files). Never served publicly: downloads go
# through a view that checks the role and writes the audit log.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media-not-served/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Security ---------------------------------------------------------------------
# Reverse proxies in front of the app that set X-Forwarded-For and X-Forwarded-Proto.
# 0 (none): the audit log records REMOTE_ADDR and HTTPS is not taken from a header,
# since clients can forge both.
KENPO_TRUSTED_PROXY_COUNT = env.int("KENPO_TRUSTED_PROXY_COUNT", default=0)
# The same count for allauth's own reading of X-Forwarded-For (its rate limits use
# core.network.client_ip through core.adapters; this covers any other allauth path).
ALLAUTH_TRUSTED_PROXY_COUNT = KENPO_TRUSTED_PROXY_COUNT

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 8)
# Logged out after this many minutes without a request (core.middleware.IdleTimeoutMiddleware);
# shorter for staff, whose pages show many people's data.
KENPO_IDLE_TIMEOUT_MINUTES = env.int("KENPO_IDLE_TIMEOUT_MINUTES", default=30)
KENPO_STAFF_IDLE_TIMEOUT_MINUTES = env.int("KENPO_STAFF_IDLE_TIMEOUT_MINUTES", default=15)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
CSRF_FAILURE_VIEW = "kenpo_portal.errors.csrf_failure"
# The contact on error pages when the database cannot be asked (kenpo_portal.errors).
KENPO_CONTACT_NAME = env.str("KENPO_CONTACT_NAME", default="加入している健康保険組合の窓口")
KENPO_CONTACT_PHONE = env.str("KENPO_CONTACT_PHONE", default="")
if PRODUCTION:
    if KENPO_TRUSTED_PROXY_COUNT > 0:
        # Only behind a declared TLS proxy: anyone else could claim HTTPS with a header.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The container's own health check talks plain HTTP on loopback.
    SECURE_REDIRECT_EXEMPT = [r"^healthz(/web)?$"]
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
# Content-Security-Policy (django-csp 4): only our own scripts and styles.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Logging: never the 記号・番号 or any other identifier (R9) --------------------
# Every handler carries core.logging.RedactIdentifiers (the net; a test walks them all).
# Django's own handlers are replaced by ours so none escapes the filter (no mail_admins:
# errors go to the console, which the deployment collects).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "core.logging.RedactIdentifiers"},
                "client_errors": {"()": "core.logging.NoTracebackForClientErrors"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["client_errors", "redact"]},
        # Django's DEFAULT_LOGGING names this one; redefined with the filter.
        "django.server": {"class": "logging.StreamHandler", "filters": ["client_errors", "redact"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint logs every step of every render at INFO.
        "weasyprint": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
# Celery workers keep this configuration (and its filter) instead of their own root handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- The society's policies (RULES.md, marked *(policy)*) ---------------------------
# R6.3: issue a 資格確認書 ex officio to people whose registration lapsed.
KENPO_EX_OFFICIO_LAPSED = env.bool("KENPO_EX_OFFICIO_LAPSED", default=True)
# R6.3: a person in grace is listed from the 1st day of this many months after the month
# of expiry (2: expiry 2026-11-14 → listed from 2027-01-01, before grace ends 2027-02-28).
KENPO_EX_OFFICIO_GRACE_MONTHS_AFTER = env.int("KENPO_EX_OFFICIO_GRACE_MONTHS_AFTER", default=2)
# R6.5: a 資格確認書 ending within this many months is renewed ex officio.
KENPO_CERTIFICATE_RENEWAL_MONTHS = env.int("KENPO_CERTIFICATE_RENEWAL_MONTHS", default=2)
# R8: validity of a 資格確認書 in years (5 is the legal maximum).
KENPO_CERTIFICATE_VALID_YEARS = env.int("KENPO_CERTIFICATE_VALID_YEARS", default=5)
# R8: the co-payment ratio (一部負担金の割合) printed for ages 70–74. The portal holds
# no income data, so one ratio for everyone; staff correct individual cases.
KENPO_ELDERLY_COPAY_RATIO = env.str("KENPO_ELDERLY_COPAY_RATIO", default="2割")
# A batch chunk's claim on its items lasts this long (seconds): longer than a task may live,
# so only a dead or frozen worker loses it; the items are then issued by another.
KENPO_BATCH_CLAIM_SECONDS = env.int("KENPO_BATCH_CLAIM_SECONDS", default=CELERY_TASK_TIME_LIMIT + 60)
# R12 (policy): a leaver's 資格確認書 is collected by the 事業所 within this many days of
# its void; staff see the ones still out after that.
KENPO_COLLECTION_DAYS = env.int("KENPO_COLLECTION_DAYS", default=5)
# (policy) The 事業所's contacts get a reminder e-mail when a packet has items still
# unconfirmed (neither 手渡し済み nor returned) this many days after it was made.
KENPO_PACKET_REMINDER_DAYS = env.int("KENPO_PACKET_REMINDER_DAYS", default=14)
# Pages of one merged print file (a merged PDF costs ~0.5 MB RAM per page to render).
KENPO_PRINT_FILE_MAX_PAGES = env.int("KENPO_PRINT_FILE_MAX_PAGES", default=300)
# Sheets rendered as one WeasyPrint document inside a print file: the pages of a chunk share
# one font subset (~4 KB a page instead of ~56 KB for single PDFs); more sheets, more memory
# (bench/pdf.py measures both).
KENPO_PRINT_CHUNK_SHEETS = env.int("KENPO_PRINT_CHUNK_SHEETS", default=50)
# Reminders (reminders/README.md): a sending claim older than this (seconds) is taken
# over by another worker; the worker that held it stops before its next e-mail.
KENPO_REMINDER_SENDING_TIMEOUT = env.int("KENPO_REMINDER_SENDING_TIMEOUT", default=1800)
# An enqueued reminder row not claimed after this many seconds is enqueued again (lost message).
KENPO_REMINDER_REENQUEUE_AFTER = env.int("KENPO_REMINDER_REENQUEUE_AFTER", default=1800)
# SMTP errors before a reminder is "failed" (listed for staff); retry n waits BACKOFF_BASE·4^(n-1) s.
KENPO_REMINDER_MAX_ATTEMPTS = env.int("KENPO_REMINDER_MAX_ATTEMPTS", default=5)
KENPO_REMINDER_BACKOFF_BASE = env.int("KENPO_REMINDER_BACKOFF_BASE", default=120)
# Households per send_batch task.
KENPO_REMINDER_HOUSEHOLDS_PER_TASK = env.int("KENPO_REMINDER_HOUSEHOLDS_PER_TASK", default=50)
# Delivery marks commit without waiting for the disk flush (False: no duplicates after a
# database-server crash, about a third slower; reminders/README.md).
KENPO_REMINDER_MARK_WITHOUT_FLUSH = env.bool("KENPO_REMINDER_MARK_WITHOUT_FLUSH", default=True)
# The mark of an e-mail the relay accepted is retried on new connections this long (a
# failover, a PgBouncer restart) before the message is left "uncertain".
KENPO_REMINDER_MARK_RETRY_SECONDS = env.int("KENPO_REMINDER_MARK_RETRY_SECONDS", default=30)
# Where the staff see how many reminders and renders failed, etc.
KENPO_ACTIVATION_CODE_VALID_DAYS = env.int("KENPO_ACTIVATION_CODE_VALID_DAYS", default=90)
# Where members book a renewal at their municipal office (eligibility/links.py); default: the card site.
KENPO_RENEWAL_BOOKING_URL = env.str("KENPO_RENEWAL_BOOKING_URL", default="")

# Four eyes (決裁, policy): a void, a batch of more than KENPO_FOUR_EYES_BATCH_OVER
# certificates and the confirm of an import over KENPO_IMPORT_LARGE_CHANGE_PERCENT wait for
# a second staff member's approval, and a paper application is approved by someone other
# than the clerk who entered it (approvals app).
KENPO_FOUR_EYES = env.bool("KENPO_FOUR_EYES", default=True)
KENPO_FOUR_EYES_BATCH_OVER = env.int("KENPO_FOUR_EYES_BATCH_OVER", default=100)

# The nightly お知らせ pass (notices.tasks.announce_changed) works in slices of at most
# this many seconds, each a task of its own (well under CELERY_TASK_SOFT_TIME_LIMIT).
KENPO_NOTICES_SLICE_SECONDS = env.int("KENPO_NOTICES_SLICE_SECONDS", default=240)

# --- Imports and exports (background jobs on the "imports" queue) ------------------
# A run never confirmed expires after this many days; its upload and staged rows are deleted.
KENPO_IMPORT_RUN_EXPIRY_DAYS = env.int("KENPO_IMPORT_RUN_EXPIRY_DAYS", default=7)
# The clerk gets the outcome by e-mail when a check or a write took longer than this.
KENPO_IMPORT_EMAIL_AFTER_SECONDS = env.int("KENPO_IMPORT_EMAIL_AFTER_SECONDS", default=60)
# A write still "in progress" after this long without its worker (the row lock is free)
# is started again by the beat task, or by staff from the run's page.
KENPO_IMPORT_STALLED_AFTER_SECONDS = env.int("KENPO_IMPORT_STALLED_AFTER_SECONDS", default=300)
# An import that overwrites more than this share (%) of the society's persons is shown with a
# warning and confirmed twice (and, with four eyes, approved by a second staff member).
KENPO_IMPORT_LARGE_CHANGE_PERCENT = env.float("KENPO_IMPORT_LARGE_CHANGE_PERCENT", default=10.0)
# Largest upload (a 1,000,000-row registration file is about 35 MB).
KENPO_IMPORT_MAX_UPLOAD_MB = env.int("KENPO_IMPORT_MAX_UPLOAD_MB", default=200)
# An export file is kept for download this many days, then deleted.
KENPO_EXPORT_KEEP_DAYS = env.int("KENPO_EXPORT_KEEP_DAYS", default=2)
# Exports a staff login may have waiting or running at once, and start per hour (exports.services).
KENPO_EXPORT_MAX_UNFINISHED = env.int("KENPO_EXPORT_MAX_UNFINISHED", default=3)
KENPO_EXPORT_MAX_PER_HOUR = env.int("KENPO_EXPORT_MAX_PER_HOUR", default=20)

# --- Staff pages at a society's size (core/pagination.py, core/middleware.py) ---------
# Every web request's SQL statement is cancelled after this many seconds (0: never): a
# clear page instead of a worker killed by gunicorn with its query still running.
# Celery jobs (imports, exports, counts, batches) are not limited by it.
KENPO_WEB_STATEMENT_TIMEOUT_SECONDS = env.int("KENPO_WEB_STATEMENT_TIMEOUT_SECONDS", default=20)
# An admin list is counted exactly in the request when that takes at most this long (ms);
# otherwise a job counts it and the list says 「件数を数えています」 (no number) meanwhile.
KENPO_LIST_COUNT_IN_REQUEST_MS = env.int("KENPO_LIST_COUNT_IN_REQUEST_MS", default=300)
# A job's count is shown (with its time) for this long, and recounted once older than FRESH.
KENPO_LIST_COUNT_KEEP_SECONDS = env.int("KENPO_LIST_COUNT_KEEP_SECONDS", default=600)
KENPO_LIST_COUNT_FRESH_SECONDS = env.int("KENPO_LIST_COUNT_FRESH_SECONDS", default=60)
KENPO_LIST_COUNT_JOB_TIMEOUT_SECONDS = env.int("KENPO_LIST_COUNT_JOB_TIMEOUT_SECONDS", default=300)
