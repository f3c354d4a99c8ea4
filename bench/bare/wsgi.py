import os

from django.core.wsgi import get_wsgi_application

# Forced, not setdefault: the benchmark's environment carries the shop's settings module.
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.bare.settings"

application = get_wsgi_application()
