from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self) -> None:
        # Account only knows the registry; the orders app plugs its export and erasure into it.
        from account.gdpr import register_anonymizer, register_erasure_check, register_exporter

        from .gdpr import orders_anonymize_for_user, orders_erasure_check, orders_export_for_user

        register_exporter("orders", orders_export_for_user)
        register_anonymizer("orders", orders_anonymize_for_user)
        register_erasure_check("orders", orders_erasure_check)

        # Account sends, orders listens (ARCHITECTURE.md: account imports no app above it).
        from account.signals import user_email_confirmed

        from . import receivers

        user_email_confirmed.connect(receivers.user_email_confirmed, dispatch_uid="orders.guest_orders_claim")
