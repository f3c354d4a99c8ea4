import pytest
from pytest_httpserver import HTTPServer

from orders.tests.fixtures import shop  # noqa: F401

from .fake_erp import API_KEY, TIMEOUT_SECONDS, FakeErp


@pytest.fixture
def fake_erp(settings):
    """The ERP configured and pointed at a local fake on its own threaded server, so a slow answer
    in one test cannot delay another."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    fake = FakeErp(server)
    settings.ERP_API_URL = fake.base_url
    settings.ERP_API_KEY = API_KEY
    settings.ERP_TIMEOUT_SECONDS = TIMEOUT_SECONDS
    try:
        yield fake
        server.check_handler_errors()  # a bug in the fake must not pass for an ERP failure
    finally:
        server.clear()
        server.stop()
