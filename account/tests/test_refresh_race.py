"""Refresh-token rotation under real concurrency, on PostgreSQL (row locks): one token sent by eight
threads at once, each with its own connection."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from account.tokens import tokens_for_user

from .factories import UserFactory

REFRESH = "/api/v1/authentication/token/refresh/"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_refresh_token_sent_eight_times_at_once_rotates_exactly_once():
    user = UserFactory()
    refresh = tokens_for_user(user)["refresh"]
    start = threading.Barrier(8)

    def use(_):
        try:
            start.wait()
            response = APIClient().post(REFRESH, {"refresh": refresh}, format="json")
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(use, range(8)))

    assert sorted(status for status, _ in results) == [200] + [401] * 7
    assert {body["errors"][0]["code"] for status, body in results if status == 401} == {"token_not_valid"}
    live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    assert live.count() == 1
    (winner,) = [body for status, body in results if status == 200]
    assert live.get().jti == RefreshToken(winner["refresh"])["jti"]
    client = APIClient()
    assert client.post(REFRESH, {"refresh": winner["refresh"]}, format="json").status_code == 200
