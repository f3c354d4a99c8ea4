from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self) -> None:
        from account.gdpr import register_anonymizer, register_exporter

        from .gdpr import chat_anonymize_for_user, chat_export_for_user

        register_exporter("chat", chat_export_for_user)
        register_anonymizer("chat", chat_anonymize_for_user)
