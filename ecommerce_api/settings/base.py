"""Settings shared by every environment. Everything comes from the environment (django-environ);
with nothing set, the project runs on embedded defaults: SQLite, local-memory cache, in-memory
channel layer, eager Celery, console email and SMS, the dummy payment gateway."""

import socket
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="insecure-local-only-key-change-me-in-production-0123456789")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    # third party
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "djoser",
    "social_django",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "django_prometheus",
    "waffle",
    "channels",
    # ours, in dependency order (see STYLE.md)
    "core",
    "account",
    "sms",
    "shop",
    "shipping",
    "coupons",
    "cart",
    "orders",
    "payment",
    "erp",
    "chat",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "waffle.middleware.WaffleMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "ecommerce_api.urls"
WSGI_APPLICATION = "ecommerce_api.wsgi.application"
ASGI_APPLICATION = "ecommerce_api.asgi.application"

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
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
# An empty DATABASE_URL= (as in a copied .env.example) means "not set".
DATABASE_URL = env("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    _db_options.setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5))
    if env.bool("DATABASE_POOL", default=False):
        # psycopg's pool; Django requires CONN_MAX_AGE=0 with it.
        _db_options["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=10),
            "timeout": env.int("DATABASE_POOL_TIMEOUT", default=10),
        }
        DATABASES["default"]["CONN_MAX_AGE"] = 0
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Local runs serve requests from several threads: a write waits for the lock (up to 20 s)
    # instead of failing with "database is locked", transactions take the write lock when they
    # begin (a read that later writes cannot be refused mid-way), and readers never block writers.
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    _db_options.setdefault("timeout", 20)
    _db_options.setdefault("transaction_mode", "IMMEDIATE")
    _db_options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: CACHE_URLS (sharded nodes) > CACHE_URL > REDIS_URL > local memory --------------------
REDIS_URL = env("REDIS_URL", default="")
CACHE_URLS = env.list("CACHE_URLS", default=[])
CACHE_URL = env("CACHE_URL", default="") or REDIS_URL
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=0.5)


def _redis_cache(locations, client_class):
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": locations,
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="ecommerce"),
        "TIMEOUT": env.int("CACHE_DEFAULT_TIMEOUT", default=300),
        "OPTIONS": {
            "CLIENT_CLASS": client_class,
            "SOCKET_CONNECT_TIMEOUT": REDIS_SOCKET_TIMEOUT,
            "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT,
            # Fail open: a Redis outage degrades to cache misses instead of 500s.
            "IGNORE_EXCEPTIONS": True,
        },
    }


if CACHE_URLS:
    CACHES = {"default": _redis_cache(CACHE_URLS, "django_redis.client.ShardClient")}
elif CACHE_URL:
    CACHES = {"default": _redis_cache(CACHE_URL, "django_redis.client.DefaultClient")}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ecommerce"}}
DJANGO_REDIS_IGNORE_EXCEPTIONS = True
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "core.cache"

# --- Channels -----------------------------------------------------------------------------------
# Idle 10 s, then a probe every 5 s, dead after 3 misses; and data sent but unacknowledged for 30 s
# (a command to a Redis that vanished) also drops the connection, where Linux would retry ~15 min.
# Options the platform lacks are left out.
CHANNEL_LAYER_KEEPALIVE = {
    getattr(socket, name): value
    for name, value in (("TCP_KEEPIDLE", 10), ("TCP_KEEPINTVL", 5), ("TCP_KEEPCNT", 3), ("TCP_USER_TIMEOUT", 30_000))
    if hasattr(socket, name)
}
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # No socket timeout on the channel layer's Redis connections: with one, redis-py sends
                # through asyncio.wait_for, which on Python 3.11 can swallow a cancellation that lands
                # as a send completes; the cancelled receive of a closed socket then polls Redis
                # forever (a leaked task, and a hang at event-loop shutdown). Reads end anyway within
                # channels-redis' 5 s blocking pop, and TCP keepalive finds a dead Redis in 25 to 30 s.
                # redis-py's pool refuses (not waits) past 100 connections, which a burst of socket
                # joins or leaves in one process reaches; the limit is raised accordingly.
                "hosts": [
                    {
                        "address": (env("CHANNEL_LAYER_URL", default="") or REDIS_URL),
                        "socket_timeout": None,
                        "socket_connect_timeout": 5,
                        "socket_keepalive": True,
                        "socket_keepalive_options": CHANNEL_LAYER_KEEPALIVE,
                        "max_connections": env.int("CHANNEL_LAYER_MAX_CONNECTIONS", default=1000),
                    }
                ],
                "capacity": 1500,
                "expiry": 30,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Celery: eager when no broker is configured -------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5, "max_retries": 2}
CELERY_TASK_DEFAULT_QUEUE = "default"
# Slow integrations get their own queues so they cannot starve the default one.
CELERY_TASK_ROUTES = {
    "core.tasks.send_email": {"queue": "email"},
    "sms.tasks.*": {"queue": "sms"},
    "*.tasks.erp_*": {"queue": "erp"},
}
CELERY_TIMEZONE = "UTC"

# --- Auth ---------------------------------------------------------------------------------------
AUTH_USER_MODEL = "account.User"
AUTHENTICATION_BACKENDS = [
    "social_core.backends.google.GoogleOAuth2",
    "social_core.backends.facebook.FacebookOAuth2",
    "social_core.backends.instagram.InstagramOAuth2",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_TOKEN_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_TOKEN_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default="") or SECRET_KEY,
    # Both header forms of SPEC.md: `Bearer <t>` and `Token <t>`.
    "AUTH_HEADER_TYPES": ("Bearer", "Token"),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

# --- Security: proxies, metrics, payments (docs/OPERATIONS.md, "Security settings") -----------
# Addresses or CIDR networks of the reverse proxies in front (nginx, the ingress controller).
# X-Forwarded-For is honoured only from these peers (core.net.client_ip); empty = from nobody.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# When set, /metrics needs `Authorization: Bearer <token>`; unset, it answers only loopback peers
# (or everyone with DEBUG on). core.views.metrics.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# The dummy gateway marks orders paid without money: with DEBUG off the system check
# ecommerce.E001 refuses it unless this demo-only opt-in is true (core/checks.py).
ALLOW_DUMMY_PAYMENTS_IN_PRODUCTION = env.bool("ALLOW_DUMMY_PAYMENTS_IN_PRODUCTION", default=False)

# --- REST framework -----------------------------------------------------------------------------
GLOBAL_ANON_THROTTLE_RATE = env("GLOBAL_ANON_THROTTLE_RATE", default="300/minute")
GLOBAL_USER_THROTTLE_RATE = env("GLOBAL_USER_THROTTLE_RATE", default="1200/minute")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["account.authentication.JWTAuthentication"],  # simplejwt + session check
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        # DRF's, with a body-size limit and a 400 for too deep JSON (core/parsers.py).
        "core.parsers.JSONParser",
        "core.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # One class for every rate that applies (anon or user, plus the view's scope): fixed-window
    # counters in one Redis round trip, by the client address of core.net (docs/OPERATIONS.md).
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.RateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": GLOBAL_ANON_THROTTLE_RATE,
        "user": GLOBAL_USER_THROTTLE_RATE,
        "login": env("LOGIN_THROTTLE_RATE", default="20/minute"),
        "otp": env("OTP_THROTTLE_RATE", default="10/minute"),
        "reviews": env("REVIEW_THROTTLE_RATE", default="20/hour"),
        "coupons": env("COUPON_THROTTLE_RATE", default="20/minute"),
        "register": env("REGISTER_THROTTLE_RATE", default="20/hour"),
        # account: anonymous endpoints that send an email (verification resend, password reset).
        "auth_email": env("AUTH_EMAIL_THROTTLE_RATE", default="10/hour"),
        "chat": env("CHAT_THROTTLE_RATE", default="60/minute"),
        # orders: guest checkouts per IP, and reads/payments of a guest order with its order_token.
        "guest_checkout": env("GUEST_CHECKOUT_THROTTLE_RATE", default="10/minute"),
        "guest_order": env("GUEST_ORDER_THROTTLE_RATE", default="60/minute"),
    },
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_standardized_errors.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Never read from the environment: 0 makes any DRF throttle outside core.throttling use
    # REMOTE_ADDR, the direct peer (gunicorn never rewrites it; uvicorn only for TRUSTED_PROXIES).
    "NUM_PROXIES": 0,
}
DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "core.errors.ExceptionHandler",
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    # The library infers per-endpoint enums of error codes from serializers and filters; services
    # raise domain codes (`cart_not_found`, `invalid_page_size`, ...) those enums do not list, so
    # every error status is documented with the one shape, its code a free-form string.
    "ERROR_SCHEMAS": dict.fromkeys(
        (400, 401, 403, 404, 405, 406, 415, 429, 500), "core.openapi.ErrorResponseSerializer"
    ),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "E-commerce API",
    "DESCRIPTION": "Catalog, carts, checkout, payments, orders, support chat. See docs/ in the repository.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # One schema name per status set (several apps have a field called "status").
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.state.OrderStatus",
        "PaymentStatusEnum": "payment.models.Payment.Status",
    },
}

# --- CORS ---------------------------------------------------------------------------------------
# Browser origins allowed to call the API (and to open its websockets, core.websocket_auth):
# exact scheme://host[:port]. None by default; local and test settings default to the usual dev
# servers (LOCAL_DEV_ORIGINS). With credentials (cookies) allowed, the origin list must be exact.
LOCAL_DEV_ORIGINS = [
    "http://localhost:3000",
    "http://localhost:5173",
    "http://127.0.0.1:3000",
    "http://127.0.0.1:5173",
]
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_CREDENTIALS = env.bool("CORS_ALLOW_CREDENTIALS", default=False)
CORS_URLS_REGEX = r"^/(api|health)/.*$"
CORS_EXPOSE_HEADERS = ["X-Request-ID", "X-Cart-Token", "Retry-After", "Idempotent-Replayed"]
from corsheaders.defaults import default_headers

CORS_ALLOW_HEADERS = (*default_headers, "idempotency-key", "x-cart-token", "x-request-id")

# --- Internationalisation, static and media -----------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
# Media URLs in answers are always absolute (core/media.py): MEDIA_URL when it is absolute (a CDN,
# e.g. https://cdn.example.com/media/), else PUBLIC_URL + MEDIA_URL. docs/OPERATIONS.md, "Media".
MEDIA_URL = (env("MEDIA_URL", default="") or "/media/").rstrip("/") + "/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))
# "filesystem" (MEDIA_ROOT) or "s3" (django-storages; any S3-compatible store: AWS, MinIO, R2, ...).
STORAGE_BACKEND = env("STORAGE_BACKEND", default="filesystem")
if STORAGE_BACKEND == "s3":
    # Credentials come from boto3's chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a role), never
    # from settings. Unsigned URLs by default: catalog bodies are cached for everybody, so an expiring
    # signature in them would break; the bucket (or the CDN in front) serves the files publicly.
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env("AWS_S3_REGION_NAME", default="") or None,
            "custom_domain": env("AWS_S3_CUSTOM_DOMAIN", default="") or None,
            "location": env("AWS_LOCATION", default="media"),
            "querystring_auth": env.bool("AWS_QUERYSTRING_AUTH", default=False),
            "default_acl": env("AWS_DEFAULT_ACL", default="") or None,
            "addressing_style": env("AWS_S3_ADDRESSING_STYLE", default="") or None,
            "url_protocol": env("AWS_S3_URL_PROTOCOL", default="https:"),
            "file_overwrite": False,
        },
    }
elif STORAGE_BACKEND == "filesystem":
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
else:
    raise ValueError(f"STORAGE_BACKEND must be 'filesystem' or 's3', not {STORAGE_BACKEND!r}.")
STORAGES = {
    "default": _media_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Email and SMS ------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
if env("EMAIL_URL", default=""):
    # e.g. smtp+tls://user:password@smtp.example.com:587 sets EMAIL_BACKEND, EMAIL_HOST, ...
    vars().update(env.email_url("EMAIL_URL"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="shop@example.com")
SMS_BACKEND = env("SMS_BACKEND", default="sms.backends.console.SmsBackend")
# The demo storefront at /storefront/ (storefront/, core/storefront.py); false answers 404 there.
STOREFRONT_ENABLED = env.bool("STOREFRONT_ENABLED", default=True)

# Where links in emails point (core/links.py, docs/STOREFRONT.md). PUBLIC_URL is this API's own
# public base; FRONTEND_URL a storefront's. With no FRONTEND_URL, links land on the small pages
# this project serves itself (verify email, set a new password) and on the demo storefront.
PUBLIC_URL = env("PUBLIC_URL", default="http://127.0.0.1:8000")
FRONTEND_URL = env("FRONTEND_URL", default="")
# Path templates, filled with str.format; each is relative to FRONTEND_URL when it is set.
FRONTEND_PATHS = {
    # EMAIL_VERIFICATION_URL_PATH and PASSWORD_RESET_URL_PATH are deprecated names of these two,
    # still read when the new ones are unset.
    "verify_email": env("FRONTEND_VERIFY_EMAIL_PATH", default="")
    or env("EMAIL_VERIFICATION_URL_PATH", default="")
    or "/verify-email?token={token}",
    "reset_password": env("FRONTEND_RESET_PASSWORD_PATH", default="")
    or env("PASSWORD_RESET_URL_PATH", default="")
    or "/reset-password?uid={uid}&token={token}",
    "order": env("FRONTEND_ORDER_PATH", default="/orders/{order_id}"),
    "guest_order": env("FRONTEND_GUEST_ORDER_PATH", default="/orders/{order_id}?order_token={order_token}"),
    "conversation": env("FRONTEND_CONVERSATION_PATH", default="/support/conversations/{conversation_id}"),
    "home": env("FRONTEND_HOME_PATH", default="/"),
}
# The same links when no storefront is configured: pages served by this project at PUBLIC_URL.
BUILTIN_PATHS = {
    "verify_email": "/account/verify-email/{token}/",
    "reset_password": "/account/reset-password/?uid={uid}&token={token}",
    "order": "/storefront/#/orders/{order_id}",
    "guest_order": "/storefront/#/orders/{order_id}?order_token={order_token}",
    "conversation": "/storefront/#/support",
    "home": "/storefront/",
}

# --- Shop behaviour -----------------------------------------------------------------------------
DEFAULT_CURRENCY = env("DEFAULT_CURRENCY", default="USD")
PAYMENT_GATEWAY = env("PAYMENT_GATEWAY", default="dummy")
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
# Published to storefronts by GET /api/v1/payments/config/ for Stripe Elements (a pk_... key only).
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")  # tests point Stripe's library at a local fake
ORDER_PAYMENT_TIMEOUT_MINUTES = env.int("ORDER_PAYMENT_TIMEOUT_MINUTES", default=30)
CART_INACTIVITY_DAYS = env.int("CART_INACTIVITY_DAYS", default=30)
PERSONAL_DATA_RETENTION_DAYS = env.int("PERSONAL_DATA_RETENTION_DAYS", default=730)
ERP_API_URL = env("ERP_API_URL", default="")
ERP_API_KEY = env("ERP_API_KEY", default="")
ERP_TIMEOUT_SECONDS = env.float("ERP_TIMEOUT_SECONDS", default=10)
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24)
IDEMPOTENCY_WAIT_SECONDS = env.float("IDEMPOTENCY_WAIT_SECONDS", default=5)
IDEMPOTENCY_LEASE_SECONDS = env.int("IDEMPOTENCY_LEASE_SECONDS", default=300)

# --- Background work: the outbox and the ERP (core.outbox, erp app; docs/BACKGROUND.md, docs/ERP.md)
# A failed outbox message is retried after OUTBOX_BACKOFF_SECONDS * 2^(attempt-1), capped at
# OUTBOX_BACKOFF_MAX_SECONDS; after OUTBOX_MAX_ATTEMPTS attempts it is dead (admin can retry it).
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=20)
OUTBOX_BACKOFF_SECONDS = env.int("OUTBOX_BACKOFF_SECONDS", default=60)
OUTBOX_BACKOFF_MAX_SECONDS = env.int("OUTBOX_BACKOFF_MAX_SECONDS", default=3600)
# Messages one drain run may deliver, and seconds after which it stops starting new ones.
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=200)
OUTBOX_DRAIN_TIME_BUDGET_SECONDS = env.int("OUTBOX_DRAIN_TIME_BUDGET_SECONDS", default=45)
# A claimed message is hidden from other drains this long; a worker that dies mid-delivery
# therefore delays the message by at most this much. Must exceed one delivery (ERP timeout).
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=300)
OUTBOX_SENT_RETENTION_DAYS = env.int("OUTBOX_SENT_RETENTION_DAYS", default=30)
# Pages one inventory pull may read (a guard against an ERP that never stops paging).
ERP_INVENTORY_MAX_PAGES = env.int("ERP_INVENTORY_MAX_PAGES", default=10000)
# Soft time limit of one inventory pull task; the hard limit is 60 s later.
ERP_INVENTORY_PULL_TIME_LIMIT = env.int("ERP_INVENTORY_PULL_TIME_LIMIT", default=1200)

# --- Catalog (shop app; docs/CATALOG.md) ---------------------------------------------------------
# Seconds a cached catalog page lives; writes invalidate at once, this only bounds memory use.
SHOP_CACHE_TIMEOUT = env.int("SHOP_CACHE_TIMEOUT", default=300)
# Stock moves do not invalidate cached pages: availability fields are read fresh on each request, and
# pages that depend on stock (the in_stock filter, facet counts) live this many seconds at most.
STOCK_CACHE_SECONDS = env.int("STOCK_CACHE_SECONDS", default=30)
# Product image uploads: largest file in bytes and largest width x height in pixels.
SHOP_IMAGE_MAX_BYTES = env.int("SHOP_IMAGE_MAX_BYTES", default=5 * 1024 * 1024)
SHOP_IMAGE_MAX_PIXELS = env.int("SHOP_IMAGE_MAX_PIXELS", default=25_000_000)

# --- Cart, coupons, shipping (cart, coupons, shipping apps; docs/CART.md) ------------------------
# Most units of one variant a cart line may hold (more is a 400 quantity_too_large).
CART_MAX_LINE_QUANTITY = env.int("CART_MAX_LINE_QUANTITY", default=99)

# --- Support chat (chat app; docs/CHAT.md) -------------------------------------------------------
CHAT_MESSAGE_MAX_LENGTH = env.int("CHAT_MESSAGE_MAX_LENGTH", default=2000)
# Per-connection token bucket for websocket frames that write (message, read).
CHAT_WS_RATE_LIMIT_MESSAGES = env.int("CHAT_WS_RATE_LIMIT_MESSAGES", default=10)
CHAT_WS_RATE_LIMIT_SECONDS = env.float("CHAT_WS_RATE_LIMIT_SECONDS", default=10)
CHAT_TYPING_MIN_INTERVAL_SECONDS = env.float("CHAT_TYPING_MIN_INTERVAL_SECONDS", default=1)
CHAT_PRESENCE_TTL_SECONDS = env.int("CHAT_PRESENCE_TTL_SECONDS", default=900)
CHAT_REPLY_EMAIL_COOLDOWN_MINUTES = env.int("CHAT_REPLY_EMAIL_COOLDOWN_MINUTES", default=15)

# --- Orders and payments (orders, payment apps; docs/ORDERS.md, docs/PAYMENTS.md) ---------------
# Unpaid orders past their payment window are cancelled by this many per beat run.
ORDER_EXPIRY_BATCH_SIZE = env.int("ORDER_EXPIRY_BATCH_SIZE", default=200)
# Seconds one Stripe HTTP call may take, and how often Stripe's library retries a network failure
# (always with the same idempotency key, so a retry cannot charge twice).
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=10)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
# How old a webhook signature timestamp may be before the event is refused (Stripe's default).
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env.int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", default=300)
# Payment methods offered on PaymentIntents (default card only). Slow methods (us_bank_account,
# sepa_debit, ...) make orders wait in payment_processing; empty = the Stripe dashboard decides.
STRIPE_PAYMENT_METHOD_TYPES = env.list("STRIPE_PAYMENT_METHOD_TYPES", default=["card"])
# Who is emailed about payment disputes (chargebacks); empty = every active staff user.
PAYMENT_ALERT_EMAILS = env.list("PAYMENT_ALERT_EMAILS", default=[])

# --- Accounts and SMS (account, sms apps; docs/ACCOUNTS.md) --------------------------------------
SHOP_NAME = env("SHOP_NAME", default="E-commerce Shop")
# Links in emails: core.links.frontend_link with FRONTEND_URL / FRONTEND_PATHS / BUILTIN_PATHS above.
EMAIL_VERIFICATION_MAX_AGE_HOURS = env.int("EMAIL_VERIFICATION_MAX_AGE_HOURS", default=48)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_SECONDS", default=3600)  # Django's token lifetime
# At most one verification / reset email per address in this many seconds (anti mail-bombing).
AUTH_EMAIL_COOLDOWN_SECONDS = env.int("AUTH_EMAIL_COOLDOWN_SECONDS", default=60)
# Brute force: this many failed logins per account or per IP within the window lock them out.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=900)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)
OTP_CODE_TTL_SECONDS = env.int("OTP_CODE_TTL_SECONDS", default=300)
OTP_MAX_ATTEMPTS = env.int("OTP_MAX_ATTEMPTS", default=5)
OTP_MAX_PER_PHONE_PER_MINUTE = env.int("OTP_MAX_PER_PHONE_PER_MINUTE", default=1)
OTP_MAX_PER_PHONE_PER_HOUR = env.int("OTP_MAX_PER_PHONE_PER_HOUR", default=5)
# Region used to read phone numbers typed without a leading +, e.g. "US"; empty = E.164 required.
PHONE_DEFAULT_REGION = env("PHONE_DEFAULT_REGION", default="")
SMS_TIMEOUT_SECONDS = env.float("SMS_TIMEOUT_SECONDS", default=10)
SMS_MAX_RETRIES = env.int("SMS_MAX_RETRIES", default=5)
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER", default="")
TWILIO_API_BASE = env("TWILIO_API_BASE", default="https://api.twilio.com")
DEMO_USER_PASSWORD = env("DEMO_USER_PASSWORD", default="")
DEMO_STAFF_PASSWORD = env("DEMO_STAFF_PASSWORD", default="")
# Social login runs our own steps: link an existing account only on a provider-verified email, and
# keep no provider access token (social_core's load_extra_data would store it).
SOCIAL_AUTH_PIPELINE = (
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_names",
    "social_core.pipeline.social_auth.social_uid",
    "social_core.pipeline.social_auth.auth_allowed",
    "social_core.pipeline.social_auth.social_user",
    "account.social.associate_by_verified_email",
    "account.social.create_user",
    "social_core.pipeline.social_auth.associate_user",
)
SOCIAL_AUTH_REQUESTS_TIMEOUT = env.float("SOCIAL_AUTH_REQUESTS_TIMEOUT", default=5)

# --- Social login -------------------------------------------------------------------------------
SOCIAL_AUTH_GOOGLE_OAUTH2_KEY = env("GOOGLE_CLIENT_ID", default="")
SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET = env("GOOGLE_CLIENT_SECRET", default="")
SOCIAL_AUTH_FACEBOOK_KEY = env("FACEBOOK_APP_ID", default="")
SOCIAL_AUTH_FACEBOOK_SECRET = env("FACEBOOK_APP_SECRET", default="")
SOCIAL_AUTH_INSTAGRAM_KEY = env("INSTAGRAM_APP_ID", default="")
SOCIAL_AUTH_INSTAGRAM_SECRET = env("INSTAGRAM_APP_SECRET", default="")
# Google ID tokens (One Tap) are accepted for GOOGLE_CLIENT_ID and these (mobile apps' client ids).
GOOGLE_ALLOWED_CLIENT_IDS = env.list("GOOGLE_ALLOWED_CLIENT_IDS", default=[])
GOOGLE_ID_TOKEN_LEEWAY_SECONDS = env.int("GOOGLE_ID_TOKEN_LEEWAY_SECONDS", default=30)
# The only redirect_uris an authorization code may come with (exact match); empty turns code login off.
SOCIAL_AUTH_ALLOWED_REDIRECT_URIS = env.list("SOCIAL_AUTH_ALLOWED_REDIRECT_URIS", default=[])
SOCIAL_AUTH_JSONFIELD_ENABLED = True

# --- Observability ------------------------------------------------------------------------------
SENTRY_DSN = env("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", default="local")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="json")  # "json" or "text"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT if LOG_FORMAT in ("json", "text") else "json",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}

# --- Feature flags (django-waffle) --------------------------------------------------------------
WAFFLE_CREATE_MISSING_FLAGS = False
WAFFLE_FLAG_DEFAULT = False

# --- Security defaults that hold everywhere -----------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "core.views.csrf_failure"
# JSON and form bodies over this are a 413, more form fields a 400 (core/parsers.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("DATA_UPLOAD_MAX_NUMBER_FIELDS", default=1000)
TEST_RUNNER = "core.test_runner.PytestTestRunner"
