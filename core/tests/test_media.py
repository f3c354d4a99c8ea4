"""core.media and the media settings: absolute URLs, MEDIA_URL from the environment, S3 storage."""

import runpy
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from pytest_httpserver import HTTPServer
from werkzeug import Response

from core.media import absolute_media_url

BASE_SETTINGS = Path(__file__).resolve().parents[2] / "ecommerce_api" / "settings" / "base.py"


def _base_settings(monkeypatch, **env: str) -> dict:
    """ecommerce_api/settings/base.py evaluated with these environment variables."""
    for name in ("MEDIA_URL", "STORAGE_BACKEND", "AWS_S3_CUSTOM_DOMAIN", "AWS_S3_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(BASE_SETTINGS))


@pytest.fixture
def aws_credentials(monkeypatch):
    # boto3's own chain reads them; settings never hold them.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def test_local_storage_urls_are_prefixed_with_public_url(settings):
    settings.PUBLIC_URL = "https://api.example.com/"

    assert absolute_media_url("products/7/a b.jpg") == "https://api.example.com/media/products/7/a%20b.jpg"
    assert absolute_media_url(None) is None
    assert absolute_media_url("") is None


def test_a_field_file_is_accepted_and_settings_changes_are_seen(settings):
    class FieldFileLike:
        name = "products/7/photo.png"

    settings.PUBLIC_URL = "https://one.example.com"
    first = absolute_media_url(FieldFileLike())
    settings.PUBLIC_URL = "https://two.example.com"

    assert first == "https://one.example.com/media/products/7/photo.png"
    assert absolute_media_url(FieldFileLike()) == "https://two.example.com/media/products/7/photo.png"


def test_an_absolute_media_url_is_kept(settings):
    settings.PUBLIC_URL = "https://api.example.com"
    settings.MEDIA_URL = "https://cdn.example.com/media/"

    assert absolute_media_url("products/7/photo.png") == "https://cdn.example.com/media/products/7/photo.png"


def test_media_url_comes_from_the_environment(monkeypatch):
    assert _base_settings(monkeypatch)["MEDIA_URL"] == "/media/"
    assert _base_settings(monkeypatch, MEDIA_URL="")["MEDIA_URL"] == "/media/"
    cdn = _base_settings(monkeypatch, MEDIA_URL="https://cdn.example.com/media")
    assert cdn["MEDIA_URL"] == "https://cdn.example.com/media/"
    assert cdn["STORAGES"]["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_an_unknown_storage_backend_is_refused(monkeypatch):
    with pytest.raises(ValueError, match="STORAGE_BACKEND"):
        _base_settings(monkeypatch, STORAGE_BACKEND="ftp")


def test_s3_settings_select_django_storages_with_a_custom_domain(monkeypatch, settings, aws_credentials):
    base = _base_settings(
        monkeypatch,
        STORAGE_BACKEND="s3",
        AWS_STORAGE_BUCKET_NAME="shop-media",
        AWS_S3_CUSTOM_DOMAIN="cdn.example.com",
    )
    storage = base["STORAGES"]["default"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == "shop-media"
    assert storage["OPTIONS"]["querystring_auth"] is False

    settings.STORAGES = {**settings.STORAGES, "default": storage}
    settings.PUBLIC_URL = "https://api.example.com"

    assert default_storage.__class__.__name__ == "S3Storage"
    assert absolute_media_url("products/7/photo.png") == "https://cdn.example.com/media/products/7/photo.png"
    assert default_storage.url("products/7/photo.png") == "https://cdn.example.com/media/products/7/photo.png"


def test_s3_settings_for_an_s3_compatible_endpoint(monkeypatch, settings, aws_credentials):
    base = _base_settings(
        monkeypatch,
        STORAGE_BACKEND="s3",
        AWS_STORAGE_BUCKET_NAME="shop-media",
        AWS_S3_ENDPOINT_URL="http://minio.internal:9000",
        AWS_S3_ADDRESSING_STYLE="path",
        AWS_LOCATION="uploads",
    )
    settings.STORAGES = {**settings.STORAGES, "default": base["STORAGES"]["default"]}

    # Unsigned (no query string), path-style under the endpoint: what a public bucket serves.
    assert (
        absolute_media_url("products/7/photo.png")
        == "http://minio.internal:9000/shop-media/uploads/products/7/photo.png"
    )


def test_signed_s3_urls_are_built_per_file(monkeypatch, settings, aws_credentials):
    base = _base_settings(
        monkeypatch,
        STORAGE_BACKEND="s3",
        AWS_STORAGE_BUCKET_NAME="shop-media",
        AWS_S3_ENDPOINT_URL="http://minio.internal:9000",
        AWS_S3_ADDRESSING_STYLE="path",
        AWS_QUERYSTRING_AUTH="true",
    )
    settings.STORAGES = {**settings.STORAGES, "default": base["STORAGES"]["default"]}

    first, second = absolute_media_url("products/7/a.png"), absolute_media_url("products/7/b.png")

    assert first.startswith("http://minio.internal:9000/shop-media/media/products/7/a.png?")
    assert second.startswith("http://minio.internal:9000/shop-media/media/products/7/b.png?")
    assert "Signature" in first


def test_an_upload_goes_to_the_s3_endpoint(monkeypatch, settings, aws_credentials, httpserver: HTTPServer):
    """A fake S3 at the HTTP boundary: the storage asks whether the name is free, then PUTs the file."""
    monkeypatch.setenv("AWS_REQUEST_CHECKSUM_CALCULATION", "when_required")
    base = _base_settings(
        monkeypatch,
        STORAGE_BACKEND="s3",
        AWS_STORAGE_BUCKET_NAME="shop-media",
        AWS_S3_ENDPOINT_URL=httpserver.url_for("/").rstrip("/"),
        AWS_S3_ADDRESSING_STYLE="path",
    )
    settings.STORAGES = {**settings.STORAGES, "default": base["STORAGES"]["default"]}
    key = "/shop-media/media/products/7/photo.png"
    httpserver.expect_request(key, method="HEAD").respond_with_response(Response(status=404))
    httpserver.expect_request(key, method="PUT").respond_with_response(
        Response(status=200, headers={"ETag": '"d41d8cd98f00b204e9800998ecf8427e"'})
    )

    name = default_storage.save("products/7/photo.png", ContentFile(b"\x89PNG fake image"))

    assert name == "products/7/photo.png"
    put = [request for request, _ in httpserver.log if request.method == "PUT"]
    assert len(put) == 1 and put[0].get_data() == b"\x89PNG fake image"
    assert absolute_media_url(name) == httpserver.url_for(key)
