"""The floor every benchmark figure is divided by: Django with nothing on top.

No apps, no middleware, no database, one URL. Served by the same server command as the shop in the
same run, so `ratio to bare` says how much of the server's capacity the shop's own work (middleware,
DRF, queries, cache) takes, on whatever machine runs it.
"""

import os
import secrets

DEBUG = False
# The benchmark passes one; a random key keeps a stray import from running on a known one.
SECRET_KEY = os.environ.get("BARE_SECRET_KEY") or secrets.token_urlsafe(50)
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.bare.urls"
DATABASES: dict = {}
USE_TZ = True
LOGGING_CONFIG = None
