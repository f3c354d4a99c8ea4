from django.apps import AppConfig


class ErpConfig(AppConfig):
    name = "erp"
    verbose_name = "ERP integration"

    def ready(self) -> None:
        from core.outbox import outbox_handler_register

        from .services import ORDER_PAID_TOPIC, erp_order_paid_handle

        outbox_handler_register(topic=ORDER_PAID_TOPIC, handler=erp_order_paid_handle)
