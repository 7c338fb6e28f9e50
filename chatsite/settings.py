"""Settings, all read from the environment here and nowhere else."""

import json
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from conversations.hosts import is_loopback

BASE_DIR = Path(__file__).resolve().parent.parent
env = os.environ


def env_bool(name: str, default: bool = False) -> bool:
    """An on/off variable: 1, true, yes and on mean on."""
    value = env.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    """A comma-separated variable."""
    return [item.strip() for item in env.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG")
SECRET_KEY = env.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=1 for development).")
    SECRET_KEY = "development-only-not-secret"  # noqa: S105 - only ever with DEBUG on
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "conversations",
    "conversations.review",
    # Single sign-on (OpenID Connect) and two-factor sign-in: README, "Single sign-on".
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.mfa",
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
    # allauth's sign-in steps (the second factor) need the request at hand.
    "allauth.account.middleware.AccountMiddleware",
    # A session whose second factor is owed (or staff who must enrol) reaches only that.
    "conversations.web.two_factor_gate.TwoFactorGate",
    "conversations.web.middleware.ContentSecurityPolicyMiddleware",
    "conversations.web.appearance.ThemeCookieMiddleware",
]

ROOT_URLCONF = "chatsite.urls"
ASGI_APPLICATION = "chatsite.asgi.application"

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
                "conversations.web.appearance.theme",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE avoids lock upgrades failing.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # One connection per thread for the life of the process: opening one (and running
    # its PRAGMAs) for every database call cost a third of the database thread's time.
    DATABASES["default"]["CONN_MAX_AGE"] = None
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg's connection pool: no connect per request, bounded connections per process.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    options = DATABASES["default"].setdefault("OPTIONS", {})
    if env.get("DATABASE_PREPARED_STATEMENTS", "1") != "0":
        # Parameters bound by the server, and a statement run five times on a connection is
        # prepared there: planning was most of the time of a turn's start statements (the
        # limits' read: 0.5 ms planned each time, 0.2 ms prepared).
        options |= {"server_side_binding": True, "prepare_threshold": 5}
    options["pool"] = {
        "min_size": 2,
        "max_size": int(env.get("DATABASE_POOL_SIZE") or 10),
        "timeout": 20,
    }

REDIS_URL = env.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 reads with a 5 s timeout by default, which kills every idle
                # consumer's blocking receive: turn it off (channels_redis issue 422).
                # Each group_send takes a connection of its own while it runs: 200 streams
                # starting together needed more than redis-py's default 100.
                "hosts": [{"address": REDIS_URL, "socket_timeout": None, "max_connections": 1000}],
                "capacity": 1000,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "conversations.chat.memory_layer.InMemoryChannelLayer",
            "CONFIG": {"capacity": 1000},
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic writes and the server serves from (the test suite collects into a
# folder of its own, so it serves what `make run` would).
STATIC_ROOT = Path(env.get("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files users attach (conversations/files/): kept through the storage named here, a
# folder outside every static path by default; any Django storage backend (django-storages
# for S3 and the like) by CHAT_FILES_STORAGE_BACKEND, its options as JSON.
CHAT_FILES_ROOT = Path(env.get("CHAT_FILES_ROOT") or BASE_DIR / "private-files")
CHAT_FILES_STORAGE = "chatfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "chatsite.storage.StaticFilesStorage"},
    CHAT_FILES_STORAGE: {
        "BACKEND": env.get("CHAT_FILES_STORAGE_BACKEND")
        or "django.core.files.storage.FileSystemStorage",
        "OPTIONS": json.loads(env.get("CHAT_FILES_STORAGE_OPTIONS") or "null")
        or {"location": str(CHAT_FILES_ROOT), "file_permissions_mode": 0o600},
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SESSION_COOKIE_HTTPONLY = True
# Django's database sessions, each signed-in one with a row saying whose it is, so staff
# can see and end a user's sessions (conversations/accounts/sessions.py).
SESSION_ENGINE = "conversations.accounts.sessions"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# The completions provider.
LLM_BASE_URL = env.get("LLM_BASE_URL") or "https://api.hyperbolic.xyz/v1"
LLM_API_KEY = env.get("LLM_API_KEY") or env.get("HYPERBOLIC_API_KEY") or ""
LLM_DEFAULT_MODEL = env.get("LLM_DEFAULT_MODEL") or "meta-llama/Llama-3.3-70B-Instruct"
# Set by `manage.py serve` when it runs the bundled offline model for want of a provider.
LLM_LOCAL_MODEL = env_bool("LLM_LOCAL_MODEL")
# No key and no provider set: `manage.py serve` starts the bundled offline model.
LLM_OFFLINE = not any(
    env.get(name) for name in ("LLM_API_KEY", "HYPERBOLIC_API_KEY", "LLM_BASE_URL")
)
# Where `manage.py serve` listens unless told otherwise, and the offline model's port.
SERVE_HOST = env.get("HOST") or "127.0.0.1"
SERVE_PORT = int(env.get("PORT") or 8000)
LOCAL_MODEL_PORT = int(env.get("LOCAL_MODEL_PORT") or 8081)
# How "Continue" asks for more of a reply: "instruction" (an instruction after the reply,
# understood by any provider) or "prefill" (the provider continues the reply itself:
# vLLM, llama.cpp).
LLM_CONTINUE_METHOD = env.get("LLM_CONTINUE_METHOD") or "instruction"
if LLM_CONTINUE_METHOD not in ("instruction", "prefill"):
    raise ImproperlyConfigured("LLM_CONTINUE_METHOD must be instruction or prefill.")
LLM_READ_TIMEOUT = float(env.get("LLM_READ_TIMEOUT") or 60)
LLM_TURN_TIMEOUT = float(env.get("LLM_TURN_TIMEOUT") or 600)
# The longest wait a provider's Retry-After may ask for before a reply is tried again.
LLM_MAX_RETRY_AFTER = float(env.get("LLM_MAX_RETRY_AFTER") or 30)
# Connections to the provider one process holds at once (one per streaming reply).
LLM_MAX_CONNECTIONS = int(env.get("LLM_MAX_CONNECTIONS") or 1000)
CHAT_MAX_MESSAGE_CHARS = int(env.get("CHAT_MAX_MESSAGE_CHARS") or 100_000)
CHAT_MAX_TOOL_ROUNDS = int(env.get("CHAT_MAX_TOOL_ROUNDS") or 5)
CHAT_TOOL_TIMEOUT = float(env.get("CHAT_TOOL_TIMEOUT") or 10)
# How long a turn waits for the user to approve a tool call that asks for approval.
CHAT_TOOL_APPROVAL_TIMEOUT = float(env.get("CHAT_TOOL_APPROVAL_TIMEOUT") or 300)
# Tool calls one user's turns may make a minute, across processes (0: no limit).
CHAT_TOOL_CALLS_PER_MINUTE = int(env.get("CHAT_TOOL_CALLS_PER_MINUTE") or 60)
# Tools run in worker processes (conversations/tools/workers.py), each under a memory cap.
CHAT_TOOL_WORKERS = int(env.get("CHAT_TOOL_WORKERS") or 2)
CHAT_TOOL_MEMORY_MB = int(env.get("CHAT_TOOL_MEMORY_MB") or 512)
CHAT_AUTO_TITLES = env_bool("CHAT_AUTO_TITLES", default=True)
# MCP tool servers staff configure (conversations/mcp_servers/).
# Stored secrets (a server's headers) are encrypted with these Fernet keys, the first
# encrypting and all decrypting (rotation: put the new key first); unset, a key is derived
# from SECRET_KEY (see README, Security).
CHAT_SECRETS_KEYS = env_list("CHAT_SECRETS_KEY", "")
CHAT_MCP_TIMEOUT = float(env.get("CHAT_MCP_TIMEOUT") or 30)  # A server's default per call.
CHAT_MCP_MAX_TIMEOUT = float(env.get("CHAT_MCP_MAX_TIMEOUT") or 300)  # Staff may set no more.
CHAT_MCP_MAX_RESPONSE_BYTES = int(env.get("CHAT_MCP_MAX_RESPONSE_BYTES") or 4 * 1024 * 1024)
CHAT_MCP_MAX_RESULT_CHARS = int(env.get("CHAT_MCP_MAX_RESULT_CHARS") or 20_000)
CHAT_MCP_REFRESH_SECONDS = float(env.get("CHAT_MCP_REFRESH_SECONDS") or 300)
CHAT_PAGE_SIZE = int(env.get("CHAT_PAGE_SIZE") or 100)
# A reviewer's hold on a queue item while its page is open; the page renews it every minute.
CHAT_REVIEW_LOCK_SECONDS = int(env.get("CHAT_REVIEW_LOCK_SECONDS") or 300)
# A page of messages stops growing at about this many bytes of frame (one message at least).
CHAT_PAGE_BYTES = int(env.get("CHAT_PAGE_BYTES") or 512 * 1024)
# The review agreement page reads at most this many of each score config's newest scores.
CHAT_AGREEMENT_MAX_SCORES = int(env.get("CHAT_AGREEMENT_MAX_SCORES") or 20_000)
# Characters (text and reasoning) after which a reply is cut off, like one at its max_tokens.
CHAT_MAX_REPLY_CHARS = int(env.get("CHAT_MAX_REPLY_CHARS") or 2_000_000)
# A running turn's lease on its conversation: renewed every second while it runs; one whose
# process died is interrupted by the others within the lease plus a sweep interval.
CHAT_TURN_LEASE_SECONDS = float(env.get("CHAT_TURN_LEASE_SECONDS") or 15)
CHAT_TURN_SWEEP_SECONDS = float(env.get("CHAT_TURN_SWEEP_SECONDS") or 10)
# How many app processes `manage.py serve` starts on its one port (more than one needs Redis).
CHAT_PROCESSES = int(env.get("CHAT_PROCESSES") or 1)
# On SIGTERM, how long a server process lets its running turns finish before it stops.
CHAT_DRAIN_SECONDS = float(env.get("CHAT_DRAIN_SECONDS") or 30)
# On PostgreSQL, how many batches of turn starts may be in the database at once. One: each
# start is a dozen round trips, and a thread coming back from each waits for the GIL
# behind the others (make bench, 10 streams: +56 to +82 ms added with one, +98 to +115
# ms with three).
CHAT_START_WORKERS = int(env.get("CHAT_START_WORKERS") or 1)
# Imports (conversations/portability/importing.py): the largest file, and how many
# conversations and messages one file may hold.
CHAT_IMPORT_MAX_BYTES = int(env.get("CHAT_IMPORT_MAX_BYTES") or 50_000_000)
# An export zip (the JSON and its files): the most files it may hold, and what it may
# unpack to in all (each file is also held to the limits of an upload).
CHAT_IMPORT_MAX_FILES = int(env.get("CHAT_IMPORT_MAX_FILES") or 1_000)
CHAT_IMPORT_MAX_UNZIPPED_BYTES = int(env.get("CHAT_IMPORT_MAX_UNZIPPED_BYTES") or 500_000_000)
CHAT_IMPORT_MAX_CONVERSATIONS = int(env.get("CHAT_IMPORT_MAX_CONVERSATIONS") or 10_000)
CHAT_IMPORT_MAX_MESSAGES = int(env.get("CHAT_IMPORT_MAX_MESSAGES") or 100_000)
# Share links (conversations/sharing/): whether a link may be open to anyone (else only to
# signed-in users of this site), the most links one user keeps (revoked and expired ones
# are removed first to make room), the largest snapshot one link holds, and how many
# shared pages (and their files) one client address may open a minute.
CHAT_SHARE_ANYONE = env_bool("CHAT_SHARE_ANYONE", default=True)
CHAT_SHARE_MAX_LINKS = int(env.get("CHAT_SHARE_MAX_LINKS") or 100)
CHAT_SHARE_MAX_BYTES = int(env.get("CHAT_SHARE_MAX_BYTES") or 5_000_000)
CHAT_SHARE_VIEWS_PER_MINUTE = int(env.get("CHAT_SHARE_VIEWS_PER_MINUTE") or 60)
# The leaderboard of compare choices (compare/leaderboard.py): for every signed-in user
# (else staff with the dashboard permission only), fitted on at most the newest this many
# choices, with this many bootstrap rounds for its intervals (each round one fit).
CHAT_LEADERBOARD_PUBLIC = env_bool("CHAT_LEADERBOARD_PUBLIC")
CHAT_LEADERBOARD_MAX_PREFERENCES = int(env.get("CHAT_LEADERBOARD_MAX_PREFERENCES") or 50_000)
CHAT_LEADERBOARD_BOOTSTRAP_ROUNDS = min(
    int(env.get("CHAT_LEADERBOARD_BOOTSTRAP_ROUNDS") or 200), 2_000
)
# Files in a conversation (conversations/files/): the largest file, the most per message,
# the bytes one user may keep in all, and the most pixels of an image (checked before it
# is decoded). Reading a file runs in a worker process killed after CHAT_FILE_TIMEOUT
# seconds, under CHAT_FILE_MEMORY_MB of address space; a PDF is read to CHAT_FILE_MAX_PAGES
# pages and a file's text to CHAT_FILE_MAX_CHARS characters (more is refused, never cut).
# Files uploaded and never sent are deleted after CHAT_FILE_ORPHAN_HOURS.
CHAT_MAX_FILE_BYTES = int(env.get("CHAT_MAX_FILE_BYTES") or 10_000_000)
CHAT_MAX_FILES_PER_MESSAGE = int(env.get("CHAT_MAX_FILES_PER_MESSAGE") or 10)
CHAT_MAX_FILE_BYTES_PER_USER = int(env.get("CHAT_MAX_FILE_BYTES_PER_USER") or 500_000_000)
CHAT_MAX_IMAGE_PIXELS = int(env.get("CHAT_MAX_IMAGE_PIXELS") or 40_000_000)
CHAT_FILE_TIMEOUT = float(env.get("CHAT_FILE_TIMEOUT") or 30)
CHAT_FILE_MEMORY_MB = int(env.get("CHAT_FILE_MEMORY_MB") or 1024)
CHAT_FILE_MAX_PAGES = int(env.get("CHAT_FILE_MAX_PAGES") or 500)
CHAT_FILE_MAX_CHARS = int(env.get("CHAT_FILE_MAX_CHARS") or 2_000_000)
CHAT_FILE_ORPHAN_HOURS = float(env.get("CHAT_FILE_ORPHAN_HOURS") or 24)
if min(CHAT_MAX_FILE_BYTES, CHAT_MAX_FILES_PER_MESSAGE, CHAT_MAX_IMAGE_PIXELS) < 1:
    raise ImproperlyConfigured(
        "CHAT_MAX_FILE_BYTES, CHAT_MAX_FILES_PER_MESSAGE and CHAT_MAX_IMAGE_PIXELS must be 1 or more."
    )
# The prompt library (conversations/prompts/): the most prompts of a user's own.
CHAT_MAX_PROMPTS_PER_USER = int(env.get("CHAT_MAX_PROMPTS_PER_USER") or 200)
if CHAT_MAX_PROMPTS_PER_USER < 1:
    raise ImproperlyConfigured("CHAT_MAX_PROMPTS_PER_USER must be 1 or more.")

# Tags (conversations/tags/): the most tags on one conversation, and the most one user keeps.
CHAT_MAX_TAGS_PER_CONVERSATION = int(env.get("CHAT_MAX_TAGS_PER_CONVERSATION") or 20)
CHAT_MAX_TAGS_PER_USER = int(env.get("CHAT_MAX_TAGS_PER_USER") or 500)
if min(CHAT_MAX_TAGS_PER_CONVERSATION, CHAT_MAX_TAGS_PER_USER) < 1:
    raise ImproperlyConfigured(
        "CHAT_MAX_TAGS_PER_CONVERSATION and CHAT_MAX_TAGS_PER_USER must be 1 or more."
    )
# Retention (conversations/deletion/): conversations untouched this many days are deleted
# (0: never); staff may set shorter rules per group, and users shorter ones for themselves.
CHAT_RETENTION_DAYS = int(env.get("CHAT_RETENTION_DAYS") or 0)
# How often server processes run the deletion jobs (one of them at a time, elected by a
# lease); 0: never, and `manage.py purge` runs them from cron instead.
CHAT_PURGE_SECONDS = float(env.get("CHAT_PURGE_SECONDS") or 3600)
# Conversations one deletion transaction takes at most (and at most PURGE_BATCH_MESSAGES
# messages between them, unless one conversation alone has more).
CHAT_PURGE_BATCH = int(env.get("CHAT_PURGE_BATCH") or 100)
# A temporary chat is deleted once closed or this many hours after it began.
CHAT_TEMPORARY_HOURS = float(env.get("CHAT_TEMPORARY_HOURS") or 24)
if CHAT_TEMPORARY_HOURS <= 0:
    raise ImproperlyConfigured("CHAT_TEMPORARY_HOURS must be more than 0.")
if CHAT_RETENTION_DAYS < 0 or CHAT_PURGE_SECONDS < 0 or CHAT_PURGE_BATCH < 1:
    raise ImproperlyConfigured(
        "CHAT_RETENTION_DAYS and CHAT_PURGE_SECONDS must be 0 or more, CHAT_PURGE_BATCH 1 or more."
    )

# Projects (conversations/projects/) one user may have.
CHAT_MAX_PROJECTS = int(env.get("CHAT_MAX_PROJECTS") or 200)

# Limits per user and per socket (README: "Limits"); 0 turns a limit off. Turn limits are
# checked in the transaction that starts a turn, so they hold across server processes.
# Turns (sends, edits, regenerations) one user may have running at once, and may start a
# minute (bursts up to the number, then one every 60/N s).
CHAT_MAX_RUNNING_TURNS = int(env.get("CHAT_MAX_RUNNING_TURNS") or 4)
CHAT_TURNS_PER_MINUTE = int(env.get("CHAT_TURNS_PER_MINUTE") or 20)
# Prompt plus completion tokens a user's replies may use per day (UTC), unless staff set a
# quota for the user or one of their groups in the admin.
CHAT_DAILY_TOKENS = int(env.get("CHAT_DAILY_TOKENS") or 2_000_000)
# Open websockets per user, across processes (counted in Redis when REDIS_URL is set).
CHAT_MAX_SOCKETS_PER_USER = int(env.get("CHAT_MAX_SOCKETS_PER_USER") or 20)
# Frames of any type one socket may send a minute.
CHAT_SOCKET_FRAMES_PER_MINUTE = int(env.get("CHAT_SOCKET_FRAMES_PER_MINUTE") or 120)
# Per user, across sockets and processes: reads (opening a conversation, older pages,
# switching versions, search, the sidebar, the model list, exports of one conversation,
# feedback, persona pages), writes (rename, pin, archive, delete, a conversation's
# settings, ratings, reports, persona changes), and bulk work (export of everything,
# imports).
CHAT_READS_PER_MINUTE = int(env.get("CHAT_READS_PER_MINUTE") or 120)
CHAT_WRITES_PER_MINUTE = int(env.get("CHAT_WRITES_PER_MINUTE") or 60)
CHAT_BULK_PER_HOUR = int(env.get("CHAT_BULK_PER_HOUR") or 20)
# Bytes of frames waiting for a websocket client that does not read, past which the server
# (conversations/web/server.py) drops the connection instead of buffering more.
CHAT_SOCKET_SEND_BUFFER = int(env.get("CHAT_SOCKET_SEND_BUFFER") or 4 * 1024 * 1024)
# Sends may name models outside the catalog (the provider's list, less models staff
# disabled); disabled models stay refused.
CHAT_ALLOW_ANY_MODEL = env_bool("CHAT_ALLOW_ANY_MODEL")

# Request bodies. The server (conversations/web/server.py) refuses a larger body before
# reading it: requests without a session cookie get the smallest cap, the import page the
# largest (the import limit and room for the form around the file).
HTTP_MAX_BODY_ANONYMOUS = int(env.get("HTTP_MAX_BODY_ANONYMOUS") or 64 * 1024)
HTTP_MAX_BODY = int(env.get("HTTP_MAX_BODY") or 1024 * 1024)
HTTP_MAX_BODY_IMPORT = CHAT_IMPORT_MAX_BYTES + 64 * 1024
# An upload to /api/files: one file and room for the form around it.
HTTP_MAX_BODY_FILES = CHAT_MAX_FILE_BYTES + 64 * 1024
# Django's own limits, the second line of defence: form data held in memory, and files
# kept in memory before they spool to disk.
DATA_UPLOAD_MAX_MEMORY_SIZE = HTTP_MAX_BODY
FILE_UPLOAD_MAX_MEMORY_SIZE = HTTP_MAX_BODY
DATA_UPLOAD_MAX_NUMBER_FILES = 10

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.get("LOG_LEVEL", "INFO")},
    # The provider's client: httpx2 logs every request at INFO (one line per reply, nothing
    # a deployment needs); aiohttp, under it, logs little.
    "loggers": {"httpx2": {"level": "WARNING"}, "aiohttp": {"level": "WARNING"}},
}

# --- Safety: the key out of logs, HTTPS and proxies, sign-up, login throttling, sessions ---
# (README: "Security" and the configuration table.)

# HTTPS. Default: on, unless debugging or every allowed host is this machine, so that
# `make run` on http://127.0.0.1 works and anything reachable from elsewhere is locked down.
# On: secure-only cookies, http redirected to https, and HSTS.
HTTPS = env_bool("DJANGO_HTTPS", default=not DEBUG and not all(map(is_loopback, ALLOWED_HOSTS)))
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=HTTPS)
SECURE_HSTS_SECONDS = int(env.get("DJANGO_HSTS_SECONDS") or (31_536_000 if HTTPS else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD")
# Pages served under another origin than the Host the app sees (a proxy that rewrites Host),
# e.g. https://chat.example.com; trusted for form posts and websocket handshakes alike.
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")
# Behind a TLS-terminating proxy: trust its X-Forwarded-Proto for the scheme, and the
# address it appends to X-Forwarded-For for the client's (DJANGO_PROXY_COUNT proxies deep).
# Only turn this on when the proxy overwrites those headers: otherwise anyone can set them.
BEHIND_PROXY = env_bool("DJANGO_SECURE_PROXY_SSL_HEADER")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
PROXY_COUNT = int(env.get("DJANGO_PROXY_COUNT") or 1)

# Sign-up. The first account becomes the administrator: freely from this machine when the
# server is reachable from nowhere else (CHAT_SERVED_LOCALLY), otherwise only with the
# one-time setup token the server prints. `make run` sets CHAT_BIND_HOST to the address
# it listens on; listening beyond loopback makes the token necessary.
CHAT_BIND_HOST = env.get("CHAT_BIND_HOST", "")
CHAT_SERVED_LOCALLY = (
    (not CHAT_BIND_HOST or is_loopback(CHAT_BIND_HOST))
    and all(map(is_loopback, ALLOWED_HOSTS))
    and not BEHIND_PROXY
    and not CSRF_TRUSTED_ORIGINS
)
# After the first account: open to anyone, closed, or by invites staff make in the admin.
CHAT_SIGNUP = (env.get("CHAT_SIGNUP") or "open").strip().lower()
if CHAT_SIGNUP not in ("open", "closed", "invite"):
    raise ImproperlyConfigured("CHAT_SIGNUP must be open, closed or invite.")
# Sign-ups one client address (an IPv6 one by its /64) may make an hour, across processes
# like the request limits: each account is another set of per-user limits. 0: no limit.
CHAT_SIGNUPS_PER_HOUR_PER_ADDRESS = int(env.get("CHAT_SIGNUPS_PER_HOUR_PER_ADDRESS") or 5)

# Sign-in throttling (django-axes): failures are counted in the database, so every server
# process shares them. An account locks after CHAT_LOGIN_FAILURES_PER_ACCOUNT failures from
# anywhere, an address after CHAT_LOGIN_FAILURES_PER_ADDRESS failures on any accounts; either
# lasts CHAT_LOGIN_LOCKOUT_MINUTES after the latest failure, and failing again while locked
# does not extend it (so nobody can keep someone else's account locked for ever). A wrong
# password on a settings page that asks for it again is a failure alike.
INSTALLED_APPS.append("axes")
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # Last, as axes requires.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "conversations.accounts.login_throttle.LoginThrottle"
# Each locks on its own; LoginThrottle reads their counts in this order.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = int(env.get("CHAT_LOGIN_FAILURES_PER_ACCOUNT") or 10)
CHAT_LOGIN_FAILURES_PER_ADDRESS = int(env.get("CHAT_LOGIN_FAILURES_PER_ADDRESS") or 30)
AXES_COOLOFF_TIME = timedelta(minutes=float(env.get("CHAT_LOGIN_LOCKOUT_MINUTES") or 15))
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "conversations.web.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "conversations.accounts.login_throttle.client_ip"
# No row per successful sign-in (a table growing for ever); Django keeps last_login.
AXES_DISABLE_ACCESS_LOG = True
# Axes keeps a failed attempt's form fields, masking `password` and these: the settings
# pages' password checks count as sign-ins too, and post the old and new passwords.
AXES_SENSITIVE_PARAMETERS = [
    "username",
    "ip_address",
    "old_password",
    "new_password1",
    "new_password2",
]

# Open websockets re-check their session at least this often (seconds): catches sessions
# that end without telling (expiry, deleted by staff). Logout, deactivation and a new
# password close them at once.
CHAT_SESSION_RECHECK_SECONDS = float(env.get("CHAT_SESSION_RECHECK_SECONDS") or 60)

# Axes says hello at INFO on every start; its failed sign-ins and lockouts are WARNINGs.
LOGGING["loggers"]["axes"] = {"level": "WARNING"}

# Every console log line goes through the same redaction as provider errors.
LOGGING["formatters"] = {"redacting": {"()": "conversations.log_redaction.RedactingFormatter"}}
LOGGING["handlers"]["console"]["formatter"] = "redacting"
# A request refused with a 4xx is one warning line: its traceback is noise, not a failure.
LOGGING["filters"] = {
    "client_errors": {"()": "conversations.log_filters.NoTracebackForClientErrors"}
}
LOGGING["handlers"]["console"]["filters"] = ["client_errors"]

# --- Single sign-on (OpenID Connect, through django-allauth) and two-factor sign-in ---
# (README: "Single sign-on" and "Two-factor sign-in".) SSO is on when an issuer and a client
# id are set. Accounts are keyed on the provider's `iss` and `sub`, never on an email.
OIDC_ISSUER = (env.get("OIDC_ISSUER") or "").rstrip("/")
OIDC_CLIENT_ID = env.get("OIDC_CLIENT_ID") or ""
OIDC_CLIENT_SECRET = env.get("OIDC_CLIENT_SECRET") or ""
# Space- or comma-separated; `openid` is always asked for.
OIDC_SCOPES = (env.get("OIDC_SCOPES") or "openid profile email").replace(",", " ").split()
OIDC_PROVIDER_NAME = env.get("OIDC_PROVIDER_NAME") or "single sign-on"
# The claim that lists the user's groups, and how its values map to Django groups
# ("value=Group,other=Other group"); values in OIDC_STAFF_GROUPS give staff status. Only
# the groups named in the map are managed; a claim never makes a superuser.
OIDC_GROUPS_CLAIM = env.get("OIDC_GROUPS_CLAIM") or "groups"
OIDC_GROUP_MAP = env.get("OIDC_GROUP_MAP") or ""
OIDC_STAFF_GROUPS = env_list("OIDC_STAFF_GROUPS", "")
# A session signed in by the provider ends this long after it began, whatever happens: the
# bound within which someone removed from a group or disabled at the provider loses what the
# app gave them, when the provider sends no back-channel logout.
OIDC_SESSION_SECONDS = int(env.get("OIDC_SESSION_SECONDS") or 8 * 3600)
SSO_ENABLED = bool(OIDC_ISSUER and OIDC_CLIENT_ID)
# Off: no sign-in, sign-up or change with a local password; single sign-on only.
CHAT_LOCAL_PASSWORDS = env_bool("CHAT_LOCAL_PASSWORDS", default=True)
if not CHAT_LOCAL_PASSWORDS and not SSO_ENABLED:
    raise ImproperlyConfigured("CHAT_LOCAL_PASSWORDS=0 needs OIDC_ISSUER and OIDC_CLIENT_ID.")
# Staff reach only the two-factor enrolment page until they have enrolled a factor.
CHAT_REQUIRE_2FA_FOR_STAFF = env_bool("CHAT_REQUIRE_2FA_FOR_STAFF")

ACCOUNT_ADAPTER = "conversations.sso.adapter.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "conversations.sso.adapter.SocialAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
# Addresses are never verified by this site and never identify an account, so one address
# may belong to several accounts: a provider's user whose verified address a local account
# also gives gets an account of their own (allauth's default would send them to a sign-up
# form, to pick another address).
ACCOUNT_UNIQUE_EMAIL = False
# Our own pages sign in and out (conversations/web/views.py, sso_views.py).
ACCOUNT_LOGOUT_ON_GET = False
# How long a password or a fresh single sign-on counts as recent, for enrolling or removing
# a second factor and for linking an account to the provider.
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_REQUIRED = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # Never sign in to an account by its email.
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_QUERY_EMAIL = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False
# Linking a signed-in account to the provider needs its password again (or just now).
SOCIALACCOUNT_REAUTHENTICATION_REQUIRED = True
# Requests to the provider (discovery, keys, tokens, userinfo) give up after this long.
SOCIALACCOUNT_REQUESTS_TIMEOUT = 5
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "provider_class": "conversations.sso.oidc.ChatOIDCProvider",
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [],
    }
}
if SSO_ENABLED:
    from conversations.sso.config import provider_app

    SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"] = [
        provider_app(
            issuer=OIDC_ISSUER,
            client_id=OIDC_CLIENT_ID,
            secret=OIDC_CLIENT_SECRET,
            scopes=OIDC_SCOPES,
            name=OIDC_PROVIDER_NAME,
        )
    ]
# Second factors: TOTP and WebAuthn passkeys from allauth.mfa; recovery codes are the app's
# own, stored hashed (conversations/accounts/recovery_codes.py).
MFA_SUPPORTED_TYPES = ["totp", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = False  # A passkey is a second factor here, not a password.
MFA_TRUST_ENABLED = False
MFA_TOTP_ISSUER = "Chat"
# A code of the step before or after is taken too (clocks drift); each is taken once.
MFA_TOTP_TOLERANCE = 1
# Enrolling and removing a factor need a recent password or single sign-on, checked by the
# app (conversations/web/two_factor_views.py), which knows single sign-on accounts.
MFA_REAUTHENTICATION_REQUIRED = False
MFA_FORMS = {
    "authenticate": "conversations.accounts.two_factor_forms.AuthenticateForm",
    "reauthenticate": "conversations.accounts.two_factor_forms.ReauthenticateForm",
}
# Passkeys need a secure origin; http://localhost and 127.0.0.1 are secure for browsers.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not HTTPS
