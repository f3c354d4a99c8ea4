"""The OpenAPI schema against the API itself: schemathesis calls every operation with data generated
from the schema (as a customer and as staff) and checks that nothing answers 500 and that every
status code, content type and body is one the schema declares. Derandomized, so CI is repeatable."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from ecommerce_api.wsgi import application

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Left out: social login (it would call Google or Facebook), deleting the caller's own account and
# logging out (the rest of the run would be anonymous).
EXCLUDED_PATHS = r"/authentication/social/|/authentication/logout/|/account/me/$"

schema = schemathesis.openapi.from_wsgi("/api/schema/", application).exclude(path_regex=EXCLUDED_PATHS)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plain_wsgi_calls(settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_conformance"  # configured, so bad signatures are a 400
    # Called as plain WSGI, Django would close the connection after each request, and with it the
    # test's transaction; Django's own test client unhooks the same handlers.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


HYPOTHESIS = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    # The caller and the database persist across the examples of one operation, on purpose.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


def _call_and_validate(case, caller) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {AccessToken.for_user(caller)}"}, checks=CHECKS)


@schema.parametrize()
@HYPOTHESIS
def test_every_operation_answers_customers_as_the_schema_says(case, user):
    _call_and_validate(case, user)


@schema.parametrize()
@HYPOTHESIS
def test_every_operation_answers_staff_as_the_schema_says(case, staff_user):
    _call_and_validate(case, staff_user)
