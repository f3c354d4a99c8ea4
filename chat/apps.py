from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_init, post_save

        from account.gdpr import register_anonymizer, register_exporter
        from account.signals import user_sessions_ended

        from . import receivers
        from .gdpr import chat_anonymize_for_user, chat_export_for_user

        register_exporter("chat", chat_export_for_user)
        register_anonymizer("chat", chat_anonymize_for_user)
        # Open sockets close when their user loses staff rights, is deactivated or is signed out.
        user = get_user_model()
        post_init.connect(receivers.user_loaded, sender=user, dispatch_uid="chat.user_loaded")
        post_save.connect(receivers.user_saved, sender=user, dispatch_uid="chat.user_saved")
        user_sessions_ended.connect(receivers.user_sessions_ended, dispatch_uid="chat.user_sessions_ended")
