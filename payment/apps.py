from django.apps import AppConfig


class PaymentConfig(AppConfig):
    name = "payment"

    def ready(self) -> None:
        from account.gdpr import register_anonymizer, register_exporter
        from orders.payment_port import payment_port_register

        from .gdpr import payments_anonymize_for_user, payments_export_for_user
        from .services import OrderPaymentAdapter

        # Orders move money only through this port, so orders never imports payment.
        payment_port_register(OrderPaymentAdapter())
        register_exporter("payments", payments_export_for_user)
        register_anonymizer("payment", payments_anonymize_for_user)
