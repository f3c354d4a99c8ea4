from django.http import JsonResponse
from django.urls import path


def status(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [path("", status)]
