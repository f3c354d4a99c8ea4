"""/storefront/ serves the files of storefront/ (core/storefront.py), and nothing outside it."""

from pathlib import Path

import pytest
from django.utils.http import http_date

ROOT = Path(__file__).resolve().parents[2] / "storefront"


def test_the_page_is_served_at_storefront(client):
    response = client.get("/storefront/")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response.content == (ROOT / "index.html").read_bytes()
    assert response["Cache-Control"] == "no-cache"


def test_modules_are_served_as_javascript(client):
    response = client.get("/storefront/js/app.js")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"  # ES modules need a JS type
    assert response.content == (ROOT / "js" / "app.js").read_bytes()


def test_the_styles_are_served_as_css(client):
    response = client.get("/storefront/styles.css")

    assert (response.status_code, response["Content-Type"]) == (200, "text/css; charset=utf-8")


def test_an_unchanged_file_is_not_sent_again(client):
    modified = http_date((ROOT / "js" / "api.js").stat().st_mtime)

    response = client.get("/storefront/js/api.js", HTTP_IF_MODIFIED_SINCE=modified)

    assert response.status_code == 304
    assert response.content == b""


def test_the_path_without_a_slash_redirects(client):
    response = client.get("/storefront")

    assert (response.status_code, response["Location"]) == (301, "/storefront/")


@pytest.mark.parametrize(
    "path",
    [
        "/storefront/missing.js",
        "/storefront/js/",
        "/storefront/../manage.py",
        "/storefront/%2e%2e/manage.py",
        "/storefront/..%2fmanage.py",
    ],
)
def test_nothing_outside_the_files_is_served(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert b"DJANGO_SETTINGS_MODULE" not in response.content


def test_only_reads_are_allowed(client):
    assert client.post("/storefront/").status_code == 405
    assert client.head("/storefront/js/app.js").status_code == 200


def test_the_storefront_can_be_switched_off(client, settings):
    settings.STOREFRONT_ENABLED = False

    assert client.get("/storefront/").status_code == 404
    assert client.get("/storefront/js/app.js").status_code == 404


def test_hidden_files_are_not_served(client, tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("SECRET_KEY=x")
    (tmp_path / "visible.txt").write_text("hello")
    monkeypatch.setattr("core.storefront.STOREFRONT_ROOT", tmp_path)

    assert client.get("/storefront/visible.txt").content == b"hello"
    assert client.get("/storefront/.env").status_code == 404
