"""Test settings: PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set (CI sets them),
SQLite and local memory otherwise. Tasks run eagerly; mail and SMS stay in memory."""

import os
import tempfile

from .base import *  # noqa: F403
from .base import CACHES, LOCAL_DEV_ORIGINS, REST_FRAMEWORK, env

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdefghijklmnopqrstuvwxyz"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "sms.backends.memory.SmsBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = env("CELERY_TEST_BROKER_URL", default="memory://")
PAYMENT_GATEWAY = "dummy"
LOG_FORMAT = "text"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING", "handlers": []}}
MEDIA_ROOT = env("TEST_MEDIA_ROOT", default=tempfile.mkdtemp(prefix="ecommerce-test-media-"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Each test process gets its own key space, so parallel runs sharing one Redis never collide.
if CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache":
    CACHES["default"]["KEY_PREFIX"] = f"test-{os.getpid()}"
# Generous global rates so only the tests that aim at a throttle meet one.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    **REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
    "anon": "10000/minute",
    "user": "10000/minute",
}
IDEMPOTENCY_WAIT_SECONDS = 10
WHITENOISE_AUTOREFRESH = True  # no collectstatic before tests
WHITENOISE_USE_FINDERS = True
# A storefront dev server (Next.js :3000, Vite :5173) may call the API unless CORS_ALLOWED_ORIGINS says otherwise.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=LOCAL_DEV_ORIGINS)
