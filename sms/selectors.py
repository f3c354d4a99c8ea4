from django.db.models import QuerySet

from .models import SmsMessage


def sms_messages_for_phone(*, phone: str) -> QuerySet[SmsMessage]:
    return SmsMessage.objects.filter(to=phone).order_by("-created_at")
