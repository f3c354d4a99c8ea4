from django.apps import AppConfig


class CouponsConfig(AppConfig):
    name = "coupons"

    def ready(self) -> None:
        # Redemptions keep the customer's email (per-customer limits count guest orders by it).
        from account.gdpr import register_anonymizer

        from .services import coupon_redemptions_anonymize_for_user

        register_anonymizer("coupons", coupon_redemptions_anonymize_for_user)
