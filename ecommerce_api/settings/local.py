"""Local development: DEBUG on, everything embedded unless the environment says otherwise."""

from .base import *  # noqa: F403
from .base import LOCAL_DEV_ORIGINS, env

DEBUG = env.bool("DEBUG", default=True)
LOG_FORMAT = env("LOG_FORMAT", default="text")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT
# Serve static files straight from the apps while developing (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
# A storefront dev server (Next.js :3000, Vite :5173) may call the API unless CORS_ALLOWED_ORIGINS says otherwise.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=LOCAL_DEV_ORIGINS)
