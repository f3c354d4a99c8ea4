from django.apps import AppConfig


class CartConfig(AppConfig):
    name = "cart"

    def ready(self) -> None:
        from account.gdpr import register_anonymizer, register_exporter

        from .gdpr import cart_anonymize_for_user, cart_export_for_user

        register_exporter("cart", cart_export_for_user)
        register_anonymizer("cart", cart_anonymize_for_user)
