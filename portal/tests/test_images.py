import io

import pytest
from PIL import Image

from portal.errors import ValidationError
from portal.images import image_validate_and_normalize
from portal.tests.images import image_bytes, upload


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_allowed_formats_are_reencoded_with_a_thumbnail(fmt):
    result = image_validate_and_normalize(io.BytesIO(image_bytes(fmt, size=(800, 600))))

    assert result.format == "JPEG"
    assert Image.open(io.BytesIO(result.image.read())).size == (800, 600)
    thumb = Image.open(io.BytesIO(result.thumbnail.read()))
    assert max(thumb.size) == 256
    assert result.image.name.endswith(".jpg")


def test_transparency_is_kept_as_png_and_crop_makes_a_square_thumbnail():
    result = image_validate_and_normalize(
        io.BytesIO(image_bytes("PNG", size=(300, 100), mode="RGBA", color=(0, 0, 0, 0))), thumbnail_crop=True
    )

    assert result.format == "PNG"
    assert Image.open(io.BytesIO(result.thumbnail.read())).size == (256, 256)


def test_big_images_are_scaled_down():
    result = image_validate_and_normalize(io.BytesIO(image_bytes("JPEG", size=(3000, 1000))), max_side=1000)

    assert (result.width, result.height) == (1000, 333)


def test_metadata_is_stripped():
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "Secret Camera"  # Make
    Image.new("RGB", (20, 20)).save(out, format="JPEG", exif=exif)

    result = image_validate_and_normalize(io.BytesIO(out.getvalue()))

    assert "Secret Camera" not in str(Image.open(io.BytesIO(result.image.read())).getexif())


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(b"just some text, not an image", "image_invalid", id="not-an-image"),
        pytest.param(b"", "image_invalid", id="empty"),
        pytest.param(image_bytes("GIF"), "image_type_not_allowed", id="gif"),
        pytest.param(image_bytes("BMP"), "image_type_not_allowed", id="bmp"),
        pytest.param(image_bytes("TIFF"), "image_type_not_allowed", id="tiff"),
        pytest.param(image_bytes("PNG", size=(400, 400))[:-300], "image_invalid", id="truncated-png"),
        pytest.param(image_bytes("JPEG", size=(400, 400))[:600], "image_invalid", id="truncated-jpeg"),
    ],
)
def test_bad_inputs_are_refused(data, code):
    with pytest.raises(ValidationError) as exc:
        image_validate_and_normalize(io.BytesIO(data))
    assert exc.value.code == code


def test_too_many_bytes_is_refused(settings):
    settings.IMAGE_UPLOAD_MAX_BYTES = 1000

    with pytest.raises(ValidationError) as exc:
        image_validate_and_normalize(upload(image_bytes("PNG", size=(200, 200)) + b"\0" * 1000))
    assert exc.value.code == "image_too_large"


def test_size_limit_reads_the_same_in_the_error_and_the_form(settings):
    from django.utils import translation

    from portal.forms import ProfileForm

    settings.IMAGE_UPLOAD_MAX_BYTES = 1024 * 1024 * 3 // 2

    with translation.override("ru"):
        with pytest.raises(ValidationError) as exc:
            image_validate_and_normalize(upload(b"\0" * (2 * 1024 * 1024)))
        help_text = str(ProfileForm().fields["avatar_upload"].help_text)

    assert exc.value.message == "Изображение слишком большое: не более 1,5 МБ."
    assert help_text == "JPEG, PNG или WebP, до 1,5 МБ."


def test_too_many_pixels_is_refused(settings):
    settings.IMAGE_UPLOAD_MAX_PIXELS = 100 * 100

    with pytest.raises(ValidationError) as exc:
        image_validate_and_normalize(io.BytesIO(image_bytes("PNG", size=(101, 100))))
    assert exc.value.code == "image_too_many_pixels"


def test_decompression_bomb_is_refused_without_decoding_it():
    # 15000 × 15000 one-bit pixels: a few dozen kilobytes on disk, 225 megapixels decoded
    bomb = image_bytes("PNG", size=(15000, 15000), mode="1")
    assert len(bomb) < 1024 * 1024

    with pytest.raises(ValidationError) as exc:
        image_validate_and_normalize(io.BytesIO(bomb))
    assert exc.value.code == "image_too_many_pixels"


@pytest.mark.parametrize(
    ("fmt", "mode"),
    [("PNG", "I;16"), ("WEBP", "RGBA"), ("PNG", "LA"), ("PNG", "P"), ("PNG", "1"), ("JPEG", "CMYK"), ("JPEG", "L")],
)
def test_unusual_pixel_modes_never_crash(fmt, mode):
    out = io.BytesIO()
    Image.new(mode, (40, 30)).save(out, format=fmt)

    try:
        result = image_validate_and_normalize(io.BytesIO(out.getvalue()))
    except ValidationError as exc:
        assert exc.code == "image_invalid"
    else:
        assert Image.open(io.BytesIO(result.image.read())).mode in {"RGB", "RGBA"}


def test_palette_png_with_transparency_stays_transparent():
    image = Image.new("P", (20, 20))
    out = io.BytesIO()
    image.save(out, format="PNG", transparency=0)

    assert image_validate_and_normalize(io.BytesIO(out.getvalue())).format == "PNG"
