from django.apps import AppConfig


class AccountConfig(AppConfig):
    name = "account"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from .api import schema  # noqa: F401  (registers the OpenAPI auth extension)
