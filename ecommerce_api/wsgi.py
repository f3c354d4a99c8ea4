import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecommerce_api.settings.local")

application = get_wsgi_application()

from core.observability import configure_observability  # noqa: E402

configure_observability(component="wsgi")
