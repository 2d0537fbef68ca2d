"""Uploads on shared storage: a real S3 API server (moto) behind django-storages, as MinIO in production.

Avatars (with their thumbnail), organization photos and mailing media go in through the pages' and API's entry points, are read back
through the URL the site hands out (a presigned GET, as a browser would), and
are deleted from the bucket when their owner removes them.
"""

import io
import urllib.request
from urllib.parse import urlsplit

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog.tests.factories import OrganizationFactory
from portal.tests.images import image_bytes, upload

pytestmark = pytest.mark.django_db


def keys(client, bucket) -> set[str]:
    return {item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", [])}


def fetch(url: str) -> bytes:
    """GET ``url`` the way a browser does (no credentials but the URL's own signature)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        return response.read()


def test_the_default_storage_is_s3_on_the_local_server(s3_storage, settings):
    assert default_storage.__class__.__name__ == "S3Storage"
    name = default_storage.save("probe/hello.txt", SimpleUploadedFile("hello.txt", b"hi"))
    url = default_storage.url(name)

    assert urlsplit(url).netloc == urlsplit(settings.AWS_S3_ENDPOINT_URL).netloc
    assert "X-Amz-Signature=" in url  # signed: the bucket is not public
    assert fetch(url) == b"hi"
    default_storage.delete(name)
    assert name not in keys(s3_storage, settings.AWS_STORAGE_BUCKET_NAME)


def test_an_avatar_and_its_thumbnail_round_trip_and_the_old_ones_are_deleted(
    s3_storage, settings, user, user_api, django_capture_on_commit_callbacks
):
    bucket = settings.AWS_STORAGE_BUCKET_NAME

    # when: the person uploads an avatar through the API
    response = user_api.put(
        "/api/v1/me/avatar/", {"avatar": upload(image_bytes("PNG", size=(600, 300)), "me.png")}, format="multipart"
    )

    # then: the image and its square thumbnail are objects in the bucket
    assert response.status_code == 200, response.content
    user.refresh_from_db()
    first = {user.avatar.name, user.avatar_thumbnail.name}
    assert first <= keys(s3_storage, bucket)
    # and the URLs the API hands out serve them
    body = response.json()
    avatar = Image.open(io.BytesIO(fetch(body["avatar"])))
    thumbnail = Image.open(io.BytesIO(fetch(body["avatar_thumbnail"])))
    assert avatar.size == (600, 300)
    assert thumbnail.size[0] == thumbnail.size[1] and thumbnail.size[0] < 600

    # when: a new avatar replaces it
    with django_capture_on_commit_callbacks(execute=True):
        again = user_api.put(
            "/api/v1/me/avatar/", {"avatar": upload(image_bytes("PNG"), "new.png")}, format="multipart"
        )

    # then: the old objects are gone, the new ones are there
    assert again.status_code == 200
    user.refresh_from_db()
    stored = keys(s3_storage, bucket)
    assert not first & stored
    assert {user.avatar.name, user.avatar_thumbnail.name} <= stored


def test_an_organization_photo_is_uploaded_served_and_deleted(
    s3_storage, settings, user, user_api, django_capture_on_commit_callbacks
):
    bucket = settings.AWS_STORAGE_BUCKET_NAME
    organization = OrganizationFactory(owner=user)

    # a photo through the owner's API
    response = user_api.post(
        f"/api/v1/organizations/{organization.pk}/photos/",
        {"image": upload(image_bytes("JPEG", size=(320, 200)), "room.jpg", "image/jpeg"), "caption": "Зал"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    photo = organization.photos.get()
    assert photo.image.name in keys(s3_storage, bucket)
    assert Image.open(io.BytesIO(fetch(response.json()["image"]))).size == (320, 200)

    with django_capture_on_commit_callbacks(execute=True):
        deleted = user_api.delete(f"/api/v1/organizations/{organization.pk}/photos/{photo.pk}/")

    assert deleted.status_code == 204
    assert photo.image.name not in keys(s3_storage, bucket)


def test_mailing_media_is_read_from_the_bucket_when_the_mailing_goes_out(s3_storage, settings, fake_telegram):
    from mailings.tests.factories import BotSubscriberFactory
    from mailings.tests.test_mailings import make_mailing, run_due

    subscriber = BotSubscriberFactory()
    content = image_bytes("JPEG", size=(80, 60))
    mailing = make_mailing(media=SimpleUploadedFile("promo.jpg", content, content_type="image/jpeg"))
    assert mailing.media.name in keys(s3_storage, settings.AWS_STORAGE_BUCKET_NAME)

    run_due(mailing)

    [(method, params)] = fake_telegram.messages_to(subscriber.chat_id)
    assert method == "sendPhoto"
    assert params["photo"]["size"] == len(content)  # the bytes came back from S3 intact
    assert fetch(mailing.media.url) == content
