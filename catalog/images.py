"""Validation of uploaded organization photos with Pillow.

Only JPEG, PNG and WebP are accepted, within ``IMAGE_UPLOAD_MAX_BYTES`` and
``IMAGE_UPLOAD_MAX_PIXELS``; the picture is decoded fully and re-encoded, which
drops metadata (EXIF, GPS) and anything smuggled after the image data.
"""

import io
import os

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from portal.errors import ValidationError

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MAX_SIDE = 2560  # gallery pictures are scaled down to this longest side


def validate_and_reencode(upload, *, max_side: int = MAX_SIDE) -> SimpleUploadedFile:
    """Return a clean re-encoded copy of ``upload`` or raise ``ValidationError`` (code ``bad_image``)."""
    max_bytes = settings.IMAGE_UPLOAD_MAX_BYTES
    max_pixels = settings.IMAGE_UPLOAD_MAX_PIXELS
    if upload is None:
        raise ValidationError(_("Choose an image file."), code="bad_image")
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise ValidationError(
            _("The image is too large (at most %(mb)s MB).") % {"mb": round(max_bytes / 1024 / 1024, 1)},
            code="bad_image",
        )
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValidationError(
            _("The image is too large (at most %(mb)s MB).") % {"mb": round(max_bytes / 1024 / 1024, 1)},
            code="bad_image",
        )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
            if fmt not in ALLOWED_FORMATS:
                raise ValidationError(_("Upload a JPEG, PNG or WebP image."), code="bad_image")
            if width * height > max_pixels:
                raise ValidationError(_("The image has too many pixels."), code="bad_image")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image = ImageOps.exif_transpose(image)
            if max(image.size) > max_side:
                image.thumbnail((max_side, max_side))
            out = io.BytesIO()
            if fmt == "JPEG":
                image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
            elif fmt == "PNG":
                image.save(out, "PNG", optimize=True)
            else:
                image.save(out, "WEBP", quality=85)
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(_("The file is not a valid image."), code="bad_image")
    base = os.path.splitext(os.path.basename(getattr(upload, "name", "") or "photo"))[0][:60] or "photo"
    ext = ALLOWED_FORMATS[fmt]
    clean = SimpleUploadedFile(f"{base}.{ext}", out.getvalue(), content_type=f"image/{'jpeg' if ext == 'jpg' else ext}")
    clean.image_size = image.size
    return clean
