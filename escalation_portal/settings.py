"""Settings from environment variables, with defaults that run on a bare machine.

Nothing set: SQLite under var/ and kombu's filesystem broker under var/, so a newcomer needs no
server. DATABASE_URL and CELERY_BROKER_URL switch to PostgreSQL and Redis.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
import pghistory
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from escalation_portal.env import env_bool, env_hours, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY, or DEBUG=true for a development key."
        )
    SECRET_KEY = "development-only-key-never-use-in-production"

# The benchmark's baseline page (`make bench`): a development aid, never routed in production.
BENCH_ROUTES = env_bool("BENCH_ROUTES", default=DEBUG)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "policies",
    "cases",
    "escalations",
    "escalations.record",
    "audit",
    "people",
    # Security layer: second factor, lockout, CSP, change history.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "pgtrigger",
    "pghistory",
    "security",
]

MIDDLEWARE = [
    # First: every response, an error page or a redirect included, carries the request id.
    "escalation_portal.request_ids.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before any lookup: a NUL or other control character in the address or a form is a 400.
    "security.middleware.RefuseControlCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's AuthenticationMiddleware and django_otp's OTPMiddleware in one query.
    "security.middleware.SignedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Outside the guards below, so their redirects are marked no-store too.
    "security.middleware.NoStoreMiddleware",
    "security.middleware.SessionLimitsMiddleware",
    "security.middleware.SecondFactorRequiredMiddleware",
    "audit.middleware.HistoryContextMiddleware",
    "audit.middleware.ReadAuditMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-csp's, with the policy built once (ADR 0036).
    "security.middleware.ContentSecurityPolicyMiddleware",
    # The portal's "Page not found" with DEBUG on too; inside the headers' middleware above.
    "escalation_portal.errors.ErrorPagesMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "escalation_portal.urls"
WSGI_APPLICATION = "escalation_portal.wsgi.application"
ASGI_APPLICATION = "escalation_portal.asgi.application"

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
                "escalations.context_processors.portal",
                "escalations.context_processors.notices",
                "people.context_processors.manage",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")
# Connections kept between requests, per process: gunicorn's workers and Celery's pool
# processes keep one each for a minute, checked before reuse (a restarted PostgreSQL costs
# one failed query, not one per process). The development server (a thread per request) runs
# with DB_CONN_MAX_AGE=0 (scripts/run_portal.py): a kept connection would stay with a
# thread that never returns.
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: wait for locks rather than fail at once.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# NCSC password guidance: length over complexity, no composition rules, common ones refused.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "security.passwords.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]

# django-axes checks every sign-in first; ModelBackend refuses inactive users.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "cases.auth.PortalBackend",
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

LOGIN_URL = "/sign-in/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/sign-in/"

# Email: the console by default; SMTP when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=bool(EMAIL_HOST))
# A mail server that connects and then hangs is given up on after this many seconds per
# socket operation (Django's default is to wait for ever, holding the relay with it).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "escalation-portal@localhost")
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000")

# How notices leave the portal (docs/integrations.md, ADR 0033): "email" (the default: SMTP,
# or the console with no EMAIL_HOST) or "notify" (GOV.UK Notify: email for every notice, and a
# text message for immediate-risk alerts to people with a mobile number). A Notify template id
# per kind comes from GOVUK_NOTIFY_TEMPLATE_<KIND>; a system check names any that is missing.
NOTICE_CHANNEL = env_str("NOTICE_CHANNEL", "email").lower()
if NOTICE_CHANNEL not in ("email", "notify"):
    raise ImproperlyConfigured(
        f"NOTICE_CHANNEL must be 'email' or 'notify', not {NOTICE_CHANNEL!r}"
    )
GOVUK_NOTIFY_API_KEY = env_str("GOVUK_NOTIFY_API_KEY")
GOVUK_NOTIFY_BASE_URL = env_str("GOVUK_NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk")
# Seconds the relay waits for Notify's answer (the client's default, 30, would hold the relay).
GOVUK_NOTIFY_TIMEOUT = env_int("GOVUK_NOTIFY_TIMEOUT", 10)
GOVUK_NOTIFY_TEMPLATES = {
    name.removeprefix("GOVUK_NOTIFY_TEMPLATE_").lower(): value.strip()
    for name, value in os.environ.items()
    if name.startswith("GOVUK_NOTIFY_TEMPLATE_") and value.strip()
}
# The bearer token Notify sends with each delivery receipt (set the same in Notify's callback
# settings); with none set, every receipt is refused.
GOVUK_NOTIFY_CALLBACK_TOKEN = env_str("GOVUK_NOTIFY_CALLBACK_TOKEN")

# Notices (escalations.notices.relay): non-urgent emails only in this window on the
# partnership's working days; urgent ones at once. Failed sends are retried with backoff.
NOTIFY_START, NOTIFY_END = env_hours("NOTIFY_HOURS", "08:00-18:00")
NOTIFY_WORKING_DAYS_ONLY = env_bool("NOTIFY_WORKING_DAYS_ONLY", default=True)
NOTICE_EMAIL_MAX_ATTEMPTS = env_int("NOTICE_EMAIL_MAX_ATTEMPTS", 6)
NOTICE_EMAIL_RETRY_SECONDS = env_int("NOTICE_EMAIL_RETRY_SECONDS", 120)
# A relay claims a notice for this long before sending it; a relay that died meanwhile is
# replaced when the claim runs out. Longer than the relay task's hard time limit (120 s).
NOTICE_CLAIM_LEASE_SECONDS = env_int("NOTICE_CLAIM_LEASE_SECONDS", 150)
DEADLINE_SWEEP_SECONDS = env_int("DEADLINE_SWEEP_SECONDS", 300)
RELAY_NOTICES_SECONDS = env_int("RELAY_NOTICES_SECONDS", 60)
HEARTBEAT_SECONDS = env_int("HEARTBEAT_SECONDS", 60)

# Celery. The embedded default is kombu's filesystem transport: it works between processes
# (web, worker, beat) with no server installed. The host is named only because kombu warns of
# a missing one; the transport uses none.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://localhost//")
CELERY_QUEUE_DIR = VAR_DIR / "celery" / "queue"
CELERY_PROCESSED_DIR = VAR_DIR / "celery" / "processed"
CELERY_CONTROL_DIR = VAR_DIR / "celery" / "control"
if CELERY_BROKER_URL.startswith("filesystem"):
    # kombu's filesystem transport needs its folders before the first message.
    CELERY_QUEUE_DIR.mkdir(parents=True, exist_ok=True)
    CELERY_PROCESSED_DIR.mkdir(parents=True, exist_ok=True)
    CELERY_CONTROL_DIR.mkdir(parents=True, exist_ok=True)
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(CELERY_QUEUE_DIR),
        "data_folder_out": str(CELERY_QUEUE_DIR),
        "processed_folder": str(CELERY_PROCESSED_DIR),
        "store_processed": False,
        "control_folder": str(CELERY_CONTROL_DIR),
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {
        # Longer than any task's hard time limit (checked below): Redis hands an
        # unacknowledged message to another worker only after this, so a task still running
        # is never run twice at once. (ADR 0017.)
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
        # A frozen Redis (a stuck network) accepts connections and never answers: every
        # socket operation gives up after these, and the worker reconnects.
        "socket_timeout": 10,
        "socket_connect_timeout": 5,
        "socket_keepalive": True,
        "health_check_interval": 25,
        "retry_on_timeout": True,
    }
)
# How long a worker, beat or publisher waits for the broker's TCP connection.
CELERY_BROKER_CONNECTION_TIMEOUT = 5
CELERY_TASK_IGNORE_RESULT = True
# Every task has a soft limit (SoftTimeLimitExceeded is raised in it, so it can record what it
# did) and a hard one (its pool process is killed and replaced). The relay and the heartbeat set
# shorter ones of their own (escalations/tasks.py, escalation_portal/tasks.py).
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 540)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 600)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# The worker survives the broker (ADR 0017). Every message is a nudge ("relay now", "sweep
# now") whose work the database holds and beat asks for again within a minute, so a message is
# acknowledged when its task starts: a task running when Redis drops has nothing to
# acknowledge on the dead connection, and a killed task is not run twice. The relay's claim
# lease, not the broker, brings back a notice whose sender died.
CELERY_TASK_ACKS_LATE = False
# Applies to late-acknowledged tasks only (there are none); Celery 6's default, said here so a
# task made late-acknowledged later is cancelled, not run twice, when the connection drops.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# Wait for the broker at start and reconnect for ever after: a worker that gave up during a
# long Redis outage would need a person to notice and restart it.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A worker reserves one message per pool process beyond those it runs.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {
        "task": "escalation_portal.tasks.heartbeat",
        "schedule": float(HEARTBEAT_SECONDS),
        "options": {"expires": float(HEARTBEAT_SECONDS)},
    },
    # Deadlines are columns, swept; never ETA tasks (SECURITY-NOTES). A message older than
    # its interval expires unrun: the next one does the same work.
    "sweep-deadlines": {
        "task": "escalations.tasks.sweep_deadlines",
        "schedule": float(DEADLINE_SWEEP_SECONDS),
        "options": {"expires": float(DEADLINE_SWEEP_SECONDS)},
    },
    "relay-notices": {
        "task": "escalations.tasks.relay_notices",
        "schedule": float(RELAY_NOTICES_SECONDS),
        "options": {"expires": float(RELAY_NOTICES_SECONDS)},
    },
    # Invitation emails (people.mail); also asked for as soon as an invitation is committed.
    "send-invitations": {
        "task": "people.tasks.send_invitations",
        "schedule": float(RELAY_NOTICES_SECONDS),
        "options": {"expires": float(RELAY_NOTICES_SECONDS)},
    },
    "send-digests": {
        "task": "escalations.tasks.send_digests",
        "schedule": crontab(hour=NOTIFY_START.hour, minute=NOTIFY_START.minute),
        "options": {"expires": 3600.0},
    },
    # Renders the escalation records due at record stages, outside the services' transactions.
    "freeze-due-records": {
        "task": "escalations.record.tasks.freeze_due_records",
        "schedule": float(env_int("RECORD_FREEZE_SECONDS", 60)),
    },
}
# The escalation record PDF: a render that takes longer is stopped (escalations/record/engine.py).
RECORD_RENDER_SECONDS = float(env_int("RECORD_RENDER_SECONDS", 20))

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# One line per event, each with the id of the request it belongs to ("-" outside a request).
# A refusal (4xx) is one line without a traceback; a server error is logged once, with its
# traceback, by django.request: runserver's access line for it and Django's own console handler
# (a second copy of every django.* line with DEBUG on) are left out.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "escalation_portal.request_ids.RequestIdLogFilter"},
        "refusals_without_traceback": {
            "()": "escalation_portal.log_filters.RefusalsWithoutTraceback"
        },
        "successful_requests_only": {"()": "escalation_portal.log_filters.SuccessfulRequestsOnly"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id", "refusals_without_traceback"],
        },
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["successful_requests_only"],
        },
        # Django's default: server errors emailed to ADMINS, if ever set, with DEBUG off.
        "mail_admins": {
            "level": "ERROR",
            "filters": ["require_debug_false"],
            "class": "django.utils.log.AdminEmailHandler",
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["mail_admins"], "level": LOG_LEVEL},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "WARNING"},
        # Failures and lockouts are warnings; its info lines repeat every successful sign-in.
        "axes": {"level": "WARNING"},
        # Never at DEBUG, whatever LOG_LEVEL says: their debug records carry personal data.
        # django.template logs each missing variable with the whole template context (a
        # child's name among it); django.db.backends logs every SQL statement with its values.
        "django.template": {"level": "INFO"},
        "django.db.backends": {"level": "INFO"},
    },
}

# Production hardening, on whenever DEBUG is off.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 30 * 60)
# Activity extends the idle limit, written at most once a minute (security/sessions.py).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = env_int("SESSION_REFRESH_SECONDS", 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_FAILURE_VIEW = "escalations.views.errors.csrf_failure"
# Error reports (emails to ADMINS, if ever set) carry no posted values and no local variables.
DEFAULT_EXCEPTION_REPORTER_FILTER = "escalation_portal.errors.NoPersonalDataReporterFilter"
# With DEBUG on, an exception is answered with the portal's own error page, not Django's.
DEFAULT_EXCEPTION_REPORTER = "escalation_portal.errors.PortalExceptionReporter"

SESSION_ABSOLUTE_SECONDS = env_int("SESSION_ABSOLUTE_SECONDS", 8 * 60 * 60)

# How many reverse proxies in front of the portal append to X-Forwarded-For. 0: the client is
# REMOTE_ADDR and the header is ignored (security/client.py explains the rest).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Second factor (django-otp). Paths a signed-in person without a verified factor may reach.
OTP_TOTP_ISSUER = "Escalation Portal"
SECOND_FACTOR_EXEMPT_PATHS = [
    "/account/two-factor/",
    "/sign-in/",
    "/sign-out/",
    "/healthz",
    # An invitee's link: sets the password that the second factor's set-up then follows.
    "/invitation/",
    STATIC_URL,
]

# Lockout (django-axes): by username and address together, so one person behind a shared
# proxy cannot lock out everyone; the address comes from security.client, which trusts
# X-Forwarded-For only as far as TRUSTED_PROXY_COUNT says.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "security.client.client_address"
AXES_LOCKOUT_CALLABLE = "security.lockout.locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_VERBOSE = False
# One row per failed sign-in (who, from where, when, whether it locked): an audit trail of
# authentication failures beside the counters above (ASVS 5.0 V16, security logging).
AXES_ENABLE_ACCESS_FAILURE_LOG = True

# Content-Security-Policy (django-csp 4): no inline script or style anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# Retention (UK GDPR storage limitation): a child's identifiers are anonymised this many years
# after the last escalation about them was closed or withdrawn. Checked daily.
# Change-history snapshots keep their foreign keys unindexed: history is read by the changed
# row (pgh_obj, indexed) and context, never by holder or agency, and each index on a history
# table is written on every change of every tracked row.
PGHISTORY_FOREIGN_KEY_FIELD = pghistory.ForeignKey(db_index=False)

RETENTION_YEARS_AFTER_CLOSURE = env_int("RETENTION_YEARS_AFTER_CLOSURE", 6)
CELERY_BEAT_SCHEDULE["anonymise-after-retention"] = {
    "task": "security.tasks.anonymise_after_retention",
    "schedule": crontab(hour=2, minute=15),
}

# --- Case-system API (api/, docs/adr/0029-case-system-api.md, docs/integrations.md) ---------
INSTALLED_APPS += ["rest_framework", "drf_spectacular", "api"]
# The API's rate counters live where every web process sees them: Redis when the broker is
# Redis (API_CACHE_URL overrides), else this process's memory (one process: make run, tests).
API_CACHE_URL = env_str(
    "API_CACHE_URL", CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else ""
)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "api": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": API_CACHE_URL}
        if API_CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api"}
    ),
    # The dashboards' figures and filter choices (ADR 0031): one copy for every web process
    # when there is Redis; else this process's memory, the default cache's own store.
    "shared": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": API_CACHE_URL,
            "KEY_PREFIX": "shared",
        }
        if API_CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": ""}
    ),
}
# How often beat refreshes the dashboards' materialised figures (the pages say so).
FIGURES_REFRESH_SECONDS = env_int("FIGURES_REFRESH_SECONDS", 60)
CELERY_BEAT_SCHEDULE["refresh-dashboard-figures"] = {
    "task": "escalations.tasks.refresh_dashboard_figures",
    "schedule": float(FIGURES_REFRESH_SECONDS),
    "options": {"expires": float(FIGURES_REFRESH_SECONDS)},
}
API_CHANGES_SETTLE_SECONDS = env_int("API_CHANGES_SETTLE_SECONDS", 10)
# Signed webhooks (api.webhooks, ADR 0034): how often they are pushed, how long a case system
# is given to answer, and whether a plain-http address is accepted (development and tests only).
PUSH_WEBHOOKS_SECONDS = env_int("PUSH_WEBHOOKS_SECONDS", 60)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", default=DEBUG)
CELERY_BEAT_SCHEDULE["push-webhooks"] = {
    "task": "api.tasks.push_webhooks",
    "schedule": float(PUSH_WEBHOOKS_SECONDS),
    "options": {"expires": float(PUSH_WEBHOOKS_SECONDS)},
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.CaseSystemTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.authentication.IsCaseSystem"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.PerTokenThrottle",
        "api.throttling.PerAddressThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "case_system": env_str("API_RATE_PER_TOKEN", "120/min"),
        "address": env_str("API_RATE_PER_ADDRESS", "300/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "NUM_PROXIES": env_int("TRUSTED_PROXY_COUNT", 0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Escalation Portal case-system API",
    "DESCRIPTION": (
        "For an agency's case system (Mosaic, Liquidlogic, SystmOne...): read the escalations "
        "the agency is a party to, exactly as its safeguarding lead sees them, to record the "
        "disagreement and its outcome on the child's file."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "APPEND_COMPONENTS": {
        "securitySchemes": {"caseSystemToken": {"type": "http", "scheme": "bearer"}}
    },
    "SECURITY": [{"caseSystemToken": []}],
    "AUTHENTICATION_WHITELIST": [],
}

# --- Single sign-on (sso/, docs/adr/0030-single-sign-on.md, docs/integrations.md) ------------
# SSO_PROVIDERS: a JSON list, one object per OpenID Connect provider (an agency's or a
# partnership's Entra ID, for example). Empty: password sign-in only.
INSTALLED_APPS += ["sso"]
AUTHENTICATION_BACKENDS += ["sso.backends.PortalOIDCBackend"]
TEMPLATES[0]["OPTIONS"]["context_processors"] += ["sso.context_processors.sign_in_providers"]
SECOND_FACTOR_EXEMPT_PATHS += ["/sso/"]


def _sso_providers() -> list[dict]:
    import json

    raw = env_str("SSO_PROVIDERS", "")
    if not raw:
        return []
    try:
        entries = json.loads(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"SSO_PROVIDERS is not valid JSON: {error}") from None
    if not isinstance(entries, list):
        raise ImproperlyConfigured("SSO_PROVIDERS must be a JSON list of providers.")
    return entries


SSO_PROVIDERS = _sso_providers()
OIDC_CREATE_USER = False
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT_SECONDS", 10)
LOGIN_REDIRECT_URL_FAILURE = "/sign-in/"
