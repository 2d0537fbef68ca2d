import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog.images import validate_and_reencode
from catalog.tests.images import image_bytes, image_upload
from portal.errors import ValidationError


@pytest.mark.parametrize("fmt,ext", [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")])
def test_allowed_formats_are_reencoded(fmt, ext):
    clean = validate_and_reencode(image_upload(f"a.{ext}", fmt))
    assert clean.image_size == (64, 48)
    assert Image.open(io.BytesIO(clean.read())).format == "JPEG"  # opaque pictures become JPEG


def test_gif_is_refused():
    with pytest.raises(ValidationError) as exc:
        validate_and_reencode(image_upload("a.gif", "GIF"))
    assert exc.value.code == "bad_image"


def test_garbage_and_truncated_files_are_refused():
    with pytest.raises(ValidationError):
        validate_and_reencode(SimpleUploadedFile("a.jpg", b"<?php echo 1; ?>"))
    truncated = image_bytes("PNG", size=(300, 300))[:200]
    with pytest.raises(ValidationError):
        validate_and_reencode(SimpleUploadedFile("a.png", truncated))


def test_size_limit(settings):
    settings.IMAGE_UPLOAD_MAX_BYTES = 500
    with pytest.raises(ValidationError) as exc:
        validate_and_reencode(image_upload(size=(400, 400)))
    assert exc.value.code == "bad_image" and exc.value.extra["reason"] == "image_too_large"


def test_pixel_limit(settings):
    settings.IMAGE_UPLOAD_MAX_PIXELS = 100 * 100
    with pytest.raises(ValidationError) as exc:
        validate_and_reencode(image_upload(size=(101, 100)))
    assert exc.value.extra["reason"] == "image_too_many_pixels"
    assert validate_and_reencode(image_upload(size=(100, 100))).image_size == (100, 100)


def test_large_pictures_are_scaled_down():
    assert max(validate_and_reencode(image_upload(size=(3000, 1000))).image_size) == 2560


def test_metadata_is_dropped():
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    clean = validate_and_reencode(image_upload(exif=exif.tobytes()))
    assert b"SpyCam" not in clean.read()
