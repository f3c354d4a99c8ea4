from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Celery autodiscovers only `<app>.tasks`; the outbox tasks and the task conventions
        # (request-id signals) live in their own modules and are loaded here.
        from . import checks, jobs, outbox, outbox_tasks  # noqa: F401

        outbox.outbox_handler_register(topic=jobs.CELERY_TASK_TOPIC, handler=jobs.celery_task_resend)
