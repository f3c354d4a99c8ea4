from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"

    def ready(self) -> None:
        from account.gdpr import register_anonymizer, register_exporter

        from .gdpr import reviews_export_for_user, shop_anonymize_for_user, wishlist_export_for_user

        register_exporter("reviews", reviews_export_for_user)
        register_exporter("wishlist", wishlist_export_for_user)
        register_anonymizer("shop", shop_anonymize_for_user)
