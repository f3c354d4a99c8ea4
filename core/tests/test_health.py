import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_live_is_ok(api_client):
    response = api_client.get("/health/live/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_is_ok_when_services_answer(api_client):
    response = api_client.get("/health/ready/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["cache"]["status"] == "ok"


UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "IGNORE_EXCEPTIONS": True},
    }
}


def test_ready_is_503_naming_redis_when_cache_is_down(api_client):
    with override_settings(CACHES=UNREACHABLE_REDIS):  # Django resets its cache handlers on this
        response = api_client.get("/health/ready/")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["cache"]
    assert body["checks"]["cache"]["backend"] == "redis"
    assert "redis" in body["detail"]
    assert body["checks"]["database"]["status"] == "ok"


def test_ready_is_503_naming_broker_when_it_is_down(api_client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = api_client.get("/health/ready/")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker"]
    assert body["checks"]["broker"]["backend"] == "redis"


def test_api_keeps_serving_when_redis_is_down(api_client):
    """The cache fails open: a Redis outage is a cache miss, not a 500."""
    with override_settings(CACHES=UNREACHABLE_REDIS):
        response = api_client.get("/api/v1/schema/")

    assert response.status_code == 200
